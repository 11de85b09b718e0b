from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def year_partitions_after_migrate(**kwargs):
    from geo_siac.reports.partitions import current_partitions_ensure

    current_partitions_ensure()


def archive_schemas_after_migrate(**kwargs):
    from geo_siac.reports.archived import archive_schemas_align

    archive_schemas_align()


def pending_erasures_after_migrate(**kwargs):
    from geo_siac.reports.services.erasure import pending_erasures_apply_restored

    pending_erasures_apply_restored()


class ReportsConfig(AppConfig):
    name = "geo_siac.reports"
    verbose_name = _("Solicitudes ciudadanas")

    def ready(self):
        from django.core import checks

        from geo_siac.reports.checks import next_year_partitions, suspended_schema

        checks.register(suspended_schema, checks.Tags.database)
        checks.register(next_year_partitions, checks.Tags.database)
        # This year's and next year's partitions exist after every migrate (docs/deployment.md).
        post_migrate.connect(year_partitions_after_migrate, sender=self)
        # The archive schemas get the columns a migration added to the live tables, outside any read.
        post_migrate.connect(archive_schemas_after_migrate, sender=self)
        # Then an archive schema restored from its dump gets the erasures made while it was only there.
        post_migrate.connect(pending_erasures_after_migrate, sender=self)
