import time

from django.core.management.base import BaseCommand

from geo_siac.transparency.services import open_data_publish


class Command(BaseCommand):
    help = (
        "Write the open-data report files (solicitudes.csv and solicitudes.geojson) that the downloads serve, "
        "into GEO_SIAC_OPEN_DATA_DIR. Run it on a timer, e.g. hourly (docs/deployment.md)."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        for published in open_data_publish():
            self.stdout.write(
                f"{published.path}: {published.reports} reports, {published.size:,} bytes, {published.seconds:.1f} s"
            )
        self.stdout.write(f"done in {time.perf_counter() - started:.1f} s")
