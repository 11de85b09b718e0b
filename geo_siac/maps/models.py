from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import Category
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


class CategoryCellCount(models.Model):
    """The same counts per category too: the maps filtered by category or category group, and the group layers, sum
    them instead of counting the category's reports (docs/maps.md, "Stored counts per category"). A table of its own,
    so that the unfiltered maps do not read a row per category. Kept by the triggers of migration 0002."""

    # In this order, a map of some comunas reads their rows only, one category (or a group's few) at a time.
    pk = models.CompositePrimaryKey("res", "commune", "category", "cell")
    res = models.SmallIntegerField(_("resolución H3"))
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("comuna"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("categoría"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    cell = models.BigIntegerField(_("celda H3"))
    reports = models.IntegerField(_("solicitudes"))
