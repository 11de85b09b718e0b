"""The reports per comuna, category and H3 cell at res 9 and 10 (maps.CategoryCellCount), kept by PostgreSQL in the
statement that changes them, as migration 0001 keeps maps.CellCount: the maps filtered by category or category group
summed from here instead of counting the category's reports (75,815 index entries for `bache` at 1M reports, 20 times
more at 20M, docs/performance.md).

Its own triggers, beside 0001's, on the same writes: INSERT and DELETE per statement with a transition table, UPDATE
per row only when the comuna, the category or a cell changes (a reclassification moves a report between categories;
it does not fire 0001's trigger), TRUNCATE, and archive_year's record of a detached year. The counts start from the
reports already stored, in this migration's transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

KEY = "res, commune_id, category_id, cell"
RESOLUTIONS = (9, 10)
CELL_COLUMNS = ("commune_id", "category_id", *(f"h3_res{res}" for res in RESOLUTIONS))
CELLS = "CROSS JOIN LATERAL (VALUES " + ", ".join(f"({res}, r.h3_res{res})" for res in RESOLUTIONS) + ") c (res, cell)"


def upsert(source: str, sign: str) -> str:
    """Add `sign` times the reports of `source` (a table or transition table with the reports' columns)."""
    return f"""
    INSERT INTO maps_categorycellcount AS t ({KEY}, reports)
    SELECT c.res, r.commune_id, r.category_id, c.cell, {sign}count(*) FROM {source} r {CELLS}
     WHERE r.h3_res9 IS NOT NULL
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE SET reports = t.reports + EXCLUDED.reports"""


def moved() -> str:
    """The report's old rows taken off and its new ones added in one upsert, sorted by the whole key: two upserts (the
    old rows, then the new) locked out of key order, and two opposite reclassifications in a cell deadlocked. The rows
    that did not change sum to zero and are not written."""
    rows = ", ".join(
        f"({res}, {row}.commune_id, {row}.category_id, {row}.h3_res{res}, {sign}1)"
        for row, sign in (("OLD", "-"), ("NEW", ""))
        for res in RESOLUTIONS
    )
    return f"""
    INSERT INTO maps_categorycellcount AS t ({KEY}, reports)
    SELECT res, commune_id, category_id, cell, sum(d) FROM (VALUES {rows}) v ({KEY}, d)
     WHERE cell IS NOT NULL
     GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE SET reports = t.reports + EXCLUDED.reports"""


CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in CELL_COLUMNS)

CREATE = f"""
CREATE FUNCTION maps_category_cell_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert("new_reports", "")};
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_category_cell_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert("old_reports", "-")};
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_category_cell_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {moved()};
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_category_cell_counts_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Not TRUNCATE: a flush truncates both tables in one statement, and this one would be in use.
    DELETE FROM maps_categorycellcount;
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_category_cell_counts_archive() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    archived regclass := to_regclass(format('%I.reports_report', NEW.schema));
BEGIN
    -- No such table: nothing was detached (the year had no partition), so nothing left the counts.
    IF archived IS NOT NULL THEN
        EXECUTE format($sql$ {upsert("%s", "-")} $sql$, archived);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER maps_category_cell_counts_add AFTER INSERT ON reports_report
    REFERENCING NEW TABLE AS new_reports FOR EACH STATEMENT EXECUTE FUNCTION maps_category_cell_counts_add();
CREATE TRIGGER maps_category_cell_counts_remove AFTER DELETE ON reports_report
    REFERENCING OLD TABLE AS old_reports FOR EACH STATEMENT EXECUTE FUNCTION maps_category_cell_counts_remove();
CREATE TRIGGER maps_category_cell_counts_move AFTER UPDATE OF {", ".join(CELL_COLUMNS)} ON reports_report
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION maps_category_cell_counts_move();
CREATE TRIGGER maps_category_cell_counts_empty AFTER TRUNCATE ON reports_report
    FOR EACH STATEMENT EXECUTE FUNCTION maps_category_cell_counts_empty();
CREATE TRIGGER maps_category_cell_counts_archive AFTER INSERT ON reports_yeararchive
    FOR EACH ROW EXECUTE FUNCTION maps_category_cell_counts_archive();
{upsert("reports_report", "")};
"""

DROP = """
DROP TRIGGER maps_category_cell_counts_archive ON reports_yeararchive;
DROP TRIGGER maps_category_cell_counts_empty ON reports_report;
DROP TRIGGER maps_category_cell_counts_move ON reports_report;
DROP TRIGGER maps_category_cell_counts_remove ON reports_report;
DROP TRIGGER maps_category_cell_counts_add ON reports_report;
DROP FUNCTION maps_category_cell_counts_archive();
DROP FUNCTION maps_category_cell_counts_empty();
DROP FUNCTION maps_category_cell_counts_move();
DROP FUNCTION maps_category_cell_counts_remove();
DROP FUNCTION maps_category_cell_counts_add();
DELETE FROM maps_categorycellcount;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0008_institutions_list"),
        ("maps", "0001_cell_counts_kept_by_triggers"),
        ("zones", "0015_identity_logo_label"),
    ]

    operations = [
        migrations.CreateModel(
            name="CategoryCellCount",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "res",
                        "commune",
                        "category",
                        "cell",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("res", models.SmallIntegerField(verbose_name="resolución H3")),
                ("cell", models.BigIntegerField(verbose_name="celda H3")),
                ("reports", models.IntegerField(verbose_name="solicitudes")),
                (
                    "category",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalogue.category",
                        verbose_name="categoría",
                    ),
                ),
                (
                    "commune",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="zones.commune",
                        verbose_name="comuna",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
