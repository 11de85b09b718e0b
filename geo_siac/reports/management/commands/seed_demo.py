import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.reports.importers import CommuneIndex, ImportFileError, ReportImporter
from geo_siac.reports.mappings import NATIVE
from geo_siac.reports.services import reports_route_unrouted
from geo_siac.reports.synthetic import write_synthetic_csv
from geo_siac.zones.models import Commune, Crew, Zone
from geo_siac.zones.service_points import import_service_points
from geo_siac.zones.services import zone_assign_crew
from geo_siac.zones.zone_importers import generate_zones

DEMO_GRID_M = 4000  # square demo zones of 4 km, clipped to each comuna
DEMO_HISTORY_DAYS = 365  # the demo history's span, ending now
# Made-up offices and night services with hours, so that "covered at 20:00" has something to show.
DEMO_SERVICE_POINTS = Path(__file__).resolve().parents[3] / "zones/demo_service_points.geojson"


class Command(BaseCommand):
    help = (
        "Carga un conjunto de demostración de solicitudes sintéticas (reproducible: las mismas cada vez, y "
        "volver a ejecutarlo no duplica nada)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--no-crews",
            action="store_true",
            help="Sin zonas ni cuadrillas de demostración (las solicitudes abiertas quedan en triage).",
        )

    def handle(self, *args, **options):
        try:
            communes = CommuneIndex.load()
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        end = timezone.now().replace(microsecond=0)
        since = end - timedelta(days=DEMO_HISTORY_DAYS)
        # Zones first, so that the import places the history in them (docs/crews.md, "Imported history").
        zones, crews = (0, 0) if options["no_crews"] else self.ensure_crews(in_force_since=since)
        with tempfile.TemporaryDirectory() as folder:
            path = write_synthetic_csv(
                Path(folder) / "demo.csv",
                options["reports"],
                communes.geometries,
                seed=options["seed"],
                days=DEMO_HISTORY_DAYS,
                end=end,
                prefix="demo",
            )
            summary = ReportImporter(mapping=NATIVE, source="demo", commit=True).run(path)
        self.stdout.write(
            f"demo: {summary.inserted} solicitudes nuevas, {summary.already_imported} ya existían, "
            f"{summary.already_archived} ya existían y se archivaron, {summary.rejected} rechazadas"
        )
        if summary.place_error:
            self.stdout.write(self.style.WARNING(summary.place_warning()))
        served = list(Commune.objects.active().values_list("cut", flat=True))
        points = import_service_points(path=DEMO_SERVICE_POINTS, source="demo", cuts=served, commit=True)
        self.stdout.write(f"demo: {points.created} puntos de atención con horario nuevos, {points.updated} ya existían")
        if options["no_crews"]:
            return
        routed = reports_route_unrouted(source="demo")
        self.stdout.write(f"demo: {zones} zonas y {crews} cuadrillas nuevas; {routed} solicitudes abiertas enrutadas")

    def ensure_crews(self, *, in_force_since: datetime) -> tuple[int, int]:
        """A 4 km grid of zones in each served comuna that has none, dated `in_force_since`, and per comuna one crew
        for each department named by the categories, answering that department's categories in every zone of the
        comuna. Running it again adds nothing."""
        new_zones = new_crews = 0
        # Crews work places: the topics of requests without one (docs/request-kinds.md) get none.
        categories = list(
            Category.objects.filter(
                is_active=True, department__isnull=False, kind=RequestKind.SERVICE_REQUEST
            ).select_related("department")
        )
        for commune in Commune.objects.active().defer("geometry").order_by("cut"):
            if not Zone.objects.current().filter(commune=commune).exists():
                new_zones += len(generate_zones(cut=commune.cut, grid_m=DEMO_GRID_M, commit=True).zones)
                # A demo assumption: its grid was in force over its whole history, so that history is in zones.
                Zone.objects.filter(commune=commune, version=1, retired_at__isnull=True).update(
                    created_at=in_force_since
                )
            zones = list(Zone.objects.current().filter(commune=commune))
            for department in sorted({c.department for c in categories}, key=lambda d: d.name):
                crew, created = Crew.objects.get_or_create(
                    name=f"{department.name} · {commune.name}"[:120],
                    defaults={"department": department, "commune": commune, "daily_capacity": 15},
                )
                new_crews += created
                for zone in zones:
                    for category in (c for c in categories if c.department == department):
                        zone_assign_crew(zone=zone, crew=crew, category=category)
        return new_zones, new_crews
