from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from geo_siac.transparency.executive import executive_report, render_html, render_pdf
from geo_siac.transparency.periods import parse_month
from geo_siac.zones.models import Commune


class Command(BaseCommand):
    help = "Write the monthly executive report of a comuna as HTML and PDF."

    def add_arguments(self, parser):
        parser.add_argument("--commune", required=True, help="CUT code, e.g. 13201")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--out", default=".", help="folder for the two files (default: current)")

    def handle(self, *args, commune, month, out, **options):
        found = Commune.objects.filter(cut=commune).first()
        if found is None:
            raise CommandError(f"unknown comuna {commune}")
        try:
            first_day = parse_month(month)
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from exc
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        with translation.override("es"):
            report = executive_report(commune=found, month=first_day)
            stem = folder / f"informe-{found.cut}-{report.month:%Y-%m}"
            stem.with_suffix(".html").write_text(render_html(report), encoding="utf-8")
            stem.with_suffix(".pdf").write_bytes(render_pdf(report))
        self.stdout.write(f"{stem}.html\n{stem}.pdf")
