"""The reports per comuna and H3 cell at res 9 and 10 (maps.CellCount), kept by PostgreSQL in the statement that
changes them.

Reports are written by report_create, the services, the Open311 POST, the bulk importer (its bulk mode drops indexes
and keys, not triggers) and hand SQL; a trigger is the one place that sees them all, in their own transaction, so a
write that commits has moved its counts and one that rolls back has not:

- INSERT and DELETE: statement-level with a transition table, one upsert per statement however many rows it wrote
  (an import chunk is one statement). The rows are grouped and sorted by key, so two writers lock the same count
  rows in the same order.
- UPDATE: row-level, and only when the comuna or a cell changes (the WHEN clause is checked without calling the
  function): a status or category change, a merge into a duplicate or the published cell's refresh costs nothing.
- TRUNCATE of the reports empties the counts.
- archive_year detaches a year's partition (no row trigger fires): recording the year (reports_yeararchive) takes
  the archived partition's counts off, read from its table in the archive schema.

The counts start from the reports already stored, in this migration's transaction: CREATE TRIGGER holds writes to
the reports until it commits.
"""

from django.db import migrations, models

KEY = "res, cell, commune_id"
# The resolutions of the maps that count too many reports to count them live (selectors.STORED_RESOLUTIONS). A coarser
# cell would be one row that every submission in a few km² updates, each waiting for the one before to commit.
RESOLUTIONS = (9, 10)
CELL_COLUMNS = ("commune_id", *(f"h3_res{res}" for res in RESOLUTIONS))
# A report's cells as (res, cell) rows.
CELLS = "CROSS JOIN LATERAL (VALUES " + ", ".join(f"({res}, r.h3_res{res})" for res in RESOLUTIONS) + ") c (res, cell)"


def upsert(source: str, sign: str) -> str:
    """Add `sign` times the reports of `source` (a table or transition table with the reports' columns)."""
    return f"""
    INSERT INTO maps_cellcount AS t ({KEY}, reports)
    SELECT c.res, c.cell, r.commune_id, {sign}count(*) FROM {source} r {CELLS}
     WHERE r.h3_res9 IS NOT NULL
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT ({KEY}) DO UPDATE SET reports = t.reports + EXCLUDED.reports"""


def one(row: str, sign: str) -> str:
    cells = ", ".join(f"({res}, {row}.h3_res{res})" for res in RESOLUTIONS)
    return f"""
    INSERT INTO maps_cellcount AS t ({KEY}, reports)
    SELECT c.res, c.cell, {row}.commune_id, {sign}1 FROM (VALUES {cells}) c (res, cell) ORDER BY 1, 2
    ON CONFLICT ({KEY}) DO UPDATE SET reports = t.reports + EXCLUDED.reports"""


CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in CELL_COLUMNS)

CREATE = f"""
CREATE FUNCTION maps_cell_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert("new_reports", "")};
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_cell_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {upsert("old_reports", "-")};
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_cell_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.h3_res9 IS NOT NULL THEN {one("OLD", "-")};
    END IF;
    IF NEW.h3_res9 IS NOT NULL THEN {one("NEW", "")};
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_cell_counts_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Not TRUNCATE: a flush truncates both tables in one statement, and this one would be in use.
    DELETE FROM maps_cellcount;
    RETURN NULL;
END
$$;
CREATE FUNCTION maps_cell_counts_archive() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER maps_cell_counts_add AFTER INSERT ON reports_report
    REFERENCING NEW TABLE AS new_reports FOR EACH STATEMENT EXECUTE FUNCTION maps_cell_counts_add();
CREATE TRIGGER maps_cell_counts_remove AFTER DELETE ON reports_report
    REFERENCING OLD TABLE AS old_reports FOR EACH STATEMENT EXECUTE FUNCTION maps_cell_counts_remove();
CREATE TRIGGER maps_cell_counts_move AFTER UPDATE OF {", ".join(CELL_COLUMNS)} ON reports_report
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION maps_cell_counts_move();
CREATE TRIGGER maps_cell_counts_empty AFTER TRUNCATE ON reports_report
    FOR EACH STATEMENT EXECUTE FUNCTION maps_cell_counts_empty();
CREATE TRIGGER maps_cell_counts_archive AFTER INSERT ON reports_yeararchive
    FOR EACH ROW EXECUTE FUNCTION maps_cell_counts_archive();
{upsert("reports_report", "")};
"""

DROP = """
DROP TRIGGER maps_cell_counts_archive ON reports_yeararchive;
DROP TRIGGER maps_cell_counts_empty ON reports_report;
DROP TRIGGER maps_cell_counts_move ON reports_report;
DROP TRIGGER maps_cell_counts_remove ON reports_report;
DROP TRIGGER maps_cell_counts_add ON reports_report;
DROP FUNCTION maps_cell_counts_archive();
DROP FUNCTION maps_cell_counts_empty();
DROP FUNCTION maps_cell_counts_move();
DROP FUNCTION maps_cell_counts_remove();
DROP FUNCTION maps_cell_counts_add();
DELETE FROM maps_cellcount;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("zones", "0015_identity_logo_label"),
        ("reports", "0038_open311_list_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="CellCount",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "res", "cell", "commune", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("res", models.SmallIntegerField(verbose_name="resolución H3")),
                ("cell", models.BigIntegerField(verbose_name="celda H3")),
                ("reports", models.IntegerField(verbose_name="solicitudes")),
                (
                    "commune",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="zones.commune",
                        verbose_name="comuna",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
