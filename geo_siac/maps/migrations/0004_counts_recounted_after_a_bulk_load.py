"""A bulk-mode import (reports.importers.bulk_mode) recounts the stored counts once at its end instead of adding
each chunk's reports through the insert triggers: the two upserts per chunk statement cost about 16 µs per imported
row, the recount of every report about a third of that (docs/performance.md).

- maps_cell_counts_add and maps_category_cell_counts_add return at once in a transaction that set
  geo_siac.counts_deferred (the importer's chunks in bulk mode, and only those: a submission meanwhile counts as
  before);
- maps_counts_recount() sets both tables to a recount of the reports stored. It takes the reports in SHARE mode
  first: it waits for the writes in flight to commit and holds new ones back until it commits, so no submission is
  counted twice or lost. The importer records it as a suspended object before its first chunk, so an import that
  dies before its end leaves it to `import_reports --restore-schema` like its indexes;
- only the insert triggers wait. Until the recount, the move triggers (a relocation, a reclassification),
  the delete triggers (an erasure's included) and archive_year's subtraction still take an imported report that was
  never counted off its old cells (a move adds it to its new ones): those counts fall short of the reports, even
  below zero, which the readers hide (they show only n > 0). The recount replaces them all;
- the way back runs a recount that a killed import left recorded, and takes its record off, before dropping
  maps_counts_recount().
"""

from django.db import migrations

CELLS = "CROSS JOIN LATERAL (VALUES (9, r.h3_res9), (10, r.h3_res10)) c (res, cell)"
TABLES = {
    # table: (key, the key's columns as selected from a report r and its cells c)
    "maps_cellcount": ("res, cell, commune_id", "c.res, c.cell, r.commune_id"),
    "maps_categorycellcount": ("res, commune_id, category_id, cell", "c.res, r.commune_id, r.category_id, c.cell"),
}
ADD_FUNCTIONS = {"maps_cell_counts_add": "maps_cellcount", "maps_category_cell_counts_add": "maps_categorycellcount"}


def insert(table: str, source: str, *, upsert: bool = True) -> str:
    key, selected = TABLES[table]
    groups = ", ".join(str(i) for i in range(1, key.count(",") + 2))
    conflict = f"ON CONFLICT ({key}) DO UPDATE SET reports = t.reports + EXCLUDED.reports" if upsert else ""
    return f"""
    INSERT INTO {table} AS t ({key}, reports)
    SELECT {selected}, count(*) FROM {source} r {CELLS}
     WHERE r.h3_res9 IS NOT NULL
     GROUP BY {groups} ORDER BY {groups}
    {conflict}"""


def add_function(name: str, *, deferrable: bool) -> str:
    skip = "IF current_setting('geo_siac.counts_deferred', true) = 'on' THEN RETURN NULL; END IF;" if deferrable else ""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {skip}
    {insert(ADD_FUNCTIONS[name], "new_reports")};
    RETURN NULL;
END
$$;"""


# No ON CONFLICT: under the SHARE lock nothing else writes the counts (the triggers run in the reports' writers), and it
# cost a quarter of the recount (1.5 s of CPU for 200,000 reports with it, 0.9-1.25 s without).
RECOUNT = f"""
CREATE FUNCTION maps_counts_recount() RETURNS void LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    LOCK TABLE reports_report IN SHARE MODE;
    {"".join(f"DELETE FROM {table}; {insert(table, 'reports_report', upsert=False)};" for table in TABLES)}
END
$$;"""

# A bulk import killed before its end left its recount recorded (reports.SuspendedSchemaObject, kind "recount"):
# without the function every later restore_suspended would fail on it, and the counts would stay short of the
# imported reports. So the way back runs it and takes the record off first (the table exists: reports 0007 is older
# than maps 0001's dependency).
FINISH_A_PENDING_RECOUNT = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM reports_suspendedschemaobject WHERE kind = 'recount' AND name = 'maps_counts_recount') THEN
        PERFORM maps_counts_recount();
        DELETE FROM reports_suspendedschemaobject WHERE kind = 'recount' AND name = 'maps_counts_recount';
    END IF;
END
$$;"""

FORWARD = "".join(add_function(name, deferrable=True) for name in ADD_FUNCTIONS) + RECOUNT
BACKWARD = (
    FINISH_A_PENDING_RECOUNT
    + "".join(add_function(name, deferrable=False) for name in ADD_FUNCTIONS)
    + "DROP FUNCTION maps_counts_recount();"
)


class Migration(migrations.Migration):
    dependencies = [
        ("maps", "0003_cell_counts_move_in_key_order"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
