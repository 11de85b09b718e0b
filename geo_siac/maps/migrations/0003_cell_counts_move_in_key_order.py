"""maps_cell_counts_move (migration 0001) in one upsert sorted by the key: it took the report's old rows off, then
added its new ones, in two upserts, so a relocation locked its count rows out of key order, and an import chunk's
insert (which locks in key order) adding reports to both cells could deadlock with it. The rows that did not change
sum to zero and are not written. The same fix as 0002's per-category move."""

from django.db import migrations

KEY = "res, cell, commune_id"
RESOLUTIONS = (9, 10)


def moved() -> str:
    rows = ", ".join(
        f"({res}, {row}.h3_res{res}, {row}.commune_id, {sign}1)"
        for row, sign in (("OLD", "-"), ("NEW", ""))
        for res in RESOLUTIONS
    )
    return f"""
    INSERT INTO maps_cellcount AS t ({KEY}, reports)
    SELECT res, cell, commune_id, sum(d) FROM (VALUES {rows}) v ({KEY}, d)
     WHERE cell IS NOT NULL
     GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT ({KEY}) DO UPDATE SET reports = t.reports + EXCLUDED.reports"""


def one(row: str, sign: str) -> str:
    """0001's upsert of one side of the move, for the way back."""
    cells = ", ".join(f"({res}, {row}.h3_res{res})" for res in RESOLUTIONS)
    return f"""
    INSERT INTO maps_cellcount AS t ({KEY}, reports)
    SELECT c.res, c.cell, {row}.commune_id, {sign}1 FROM (VALUES {cells}) c (res, cell) ORDER BY 1, 2
    ON CONFLICT ({KEY}) DO UPDATE SET reports = t.reports + EXCLUDED.reports"""


REPLACE = f"""
CREATE OR REPLACE FUNCTION maps_cell_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {moved()};
    RETURN NULL;
END
$$;
"""

RESTORE = f"""
CREATE OR REPLACE FUNCTION maps_cell_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.h3_res9 IS NOT NULL THEN {one("OLD", "-")};
    END IF;
    IF NEW.h3_res9 IS NOT NULL THEN {one("NEW", "")};
    END IF;
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("maps", "0002_category_cell_counts_kept_by_triggers"),
    ]

    operations = [migrations.RunSQL(REPLACE, RESTORE)]
