from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from geo_siac.alerts.selectors import escalation_replay
from geo_siac.reports.models import Report


class Command(BaseCommand):
    help = (
        "Replay the stored requests day by day through escalation thresholds and print, per month, how many "
        "reached each level: what a municipality would see before switching the rules on. The live checker tells "
        "a request already past several levels when first checked only the highest (docs/escalation.md, "
        '"Catching up"); this replay counts every level reached.'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--threshold",
            type=int,
            action="append",
            dest="thresholds",
            help="Business days after the due day of level 1, 2... in order (default -2 1 5).",
        )
        parser.add_argument("--source", default=None, help="Only requests imported from this source.")

    def handle(self, *args, thresholds, source, **options):
        thresholds = thresholds or [-2, 1, 5]
        if any(not -60 <= t <= 250 for t in thresholds):
            raise CommandError("Each --threshold must be from -60 to 250 business days, as a rule's.")
        reports = Report.objects.all() if source is None else Report.objects.filter(source=source)
        levels = dict(enumerate(thresholds, start=1))
        months = escalation_replay(reports, levels, as_of=timezone.now())
        self.stdout.write("mes      " + "".join(f"  nivel {level} ({t:+d})" for level, t in levels.items()))
        for month, counts in months.items():
            self.stdout.write(f"{month:%Y-%m}  " + "".join(f"{counts.get(level, 0):>15,}" for level in levels))
