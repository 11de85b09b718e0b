from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.zones.models import Commune


class CellCount(models.Model):
    """How many live reports with a place a comuna has in an H3 cell, at res 9 and 10: the unfiltered heat maps'
    counts, summed from here instead of counting every report (docs/maps.md, "Stored counts for the unfiltered
    maps"). PostgreSQL keeps it: triggers on reports_report and reports_yeararchive, made by migration
    0001, see every write, whatever path makes it. A cell whose reports all left keeps a row of 0.
    """

    # In this order, a map's read walks one resolution's cells in order and sums each cell's comunas as it goes.
    pk = models.CompositePrimaryKey("res", "cell", "commune")
    res = models.SmallIntegerField(_("resolución H3"))
    # No database key: the reports' own key to the comuna protects it, and a check per counted write costs.
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("comuna"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the primary key has it
        related_name="+",
    )
    cell = models.BigIntegerField(_("celda H3"))
    reports = models.IntegerField(_("solicitudes"))
