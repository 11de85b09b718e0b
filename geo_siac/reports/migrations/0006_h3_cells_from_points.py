"""Reports stored before this migration had their coarser H3 cells as parents of the res-10 cell; H3 is not exactly
nested, so near cell edges those differ from the point's own cell. Recompute every resolution from the point."""

from django.db import migrations

from geo_siac.geo import H3_RESOLUTIONS, h3_cells_many

BATCH = 20_000
COLUMNS = [f"h3_res{res}" for res in H3_RESOLUTIONS]
UPDATE_SQL = f"""
UPDATE reports_report AS r SET {", ".join(f"{c} = v.{c}" for c in COLUMNS)}
FROM unnest(%s::bigint[], {", ".join("%s::bigint[]" for _ in COLUMNS)}) AS v(id, {", ".join(COLUMNS)})
WHERE r.id = v.id AND ({" OR ".join(f"r.{c} <> v.{c}" for c in COLUMNS)})
"""


def recompute(apps, schema_editor):
    connection = schema_editor.connection
    last_id = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id, ST_Y(location), ST_X(location) FROM reports_report WHERE id > %s ORDER BY id LIMIT %s",
                [last_id, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            ids, lats, lngs = zip(*rows)
            cells = h3_cells_many(lats, lngs)
            cursor.execute(UPDATE_SQL, [list(ids), *(cells[c].tolist() for c in COLUMNS)])
            last_id = ids[-1]


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_report_heatmap_covering_indexes")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
