"""Where each report is placed in public: the k-anonymous cell of reports.privacy, stored on the report."""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from geo_siac.catalogue.models import Category
from geo_siac.db import local_settings
from geo_siac.reports.models import Report
from geo_siac.reports.privacy import GROUP_COLUMNS, published_cells

REPORTS = Report._meta.db_table
CATEGORIES = Category._meta.db_table

# Where each group of reports (privacy.GROUP_COLUMNS) is published, stored on the reports of the group in public
# categories; only rows whose place changes are written. A report filed after the count joins its group's place
# (a cell of at least k reports plus it) or, in a group not counted, keeps none.
_PUBLIC_CELL_SQL = f"""
UPDATE {REPORTS} AS r SET public_cell = g.cell
  FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
       AS g(commune_id, h3_res9, h3_res8, h3_res7, h3_res6, cell),
       {CATEGORIES} AS c
 WHERE r.category_id = c.id AND c.is_public
   AND (r.commune_id, r.h3_res9, r.h3_res8, r.h3_res7, r.h3_res6)
       = (g.commune_id, g.h3_res9, g.h3_res8, g.h3_res7, g.h3_res6)
   AND r.public_cell IS DISTINCT FROM g.cell
"""
# Reports of hidden categories are never placed in public.
_HIDDEN_CELL_SQL = f"""
UPDATE {REPORTS} AS r SET public_cell = NULL
  FROM {CATEGORIES} AS c
 WHERE r.category_id = c.id AND NOT c.is_public AND r.public_cell IS NOT NULL
"""


@transaction.atomic
def report_public_cells_refresh(*, min_count: int | None = None) -> int:
    """Decide where every report in a public category is placed in public (privacy.published_cells, k =
    GEO_SIAC_PUBLIC_MIN_CELL_COUNT) and store it in `public_cell`; returns how many reports changed place.
    One process at a time (an advisory lock), so two publish runs cannot interleave their writes."""
    k = min_count if min_count is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports:public_cell'))")
        # A request without a place has no cells: it is placed nowhere, and its NULLs must not form a group.
        groups = (
            Report.objects.filter(category__is_public=True, h3_res9__isnull=False)
            .order_by()
            .values_list(*GROUP_COLUMNS)
            .annotate(n=Count("id"))
        )
        placed = published_cells({row[:-1]: row[-1] for row in groups}, k)
        columns = list(zip(*[(*group, cell) for group, cell in placed.items()])) or [()] * (len(GROUP_COLUMNS) + 1)
        # The reports in heap order against a hash of the groups: sorted by group (a merge join) or fetched group by
        # group (a nested loop), each heap page is written once per group on it (docs/performance.md, 20M placing).
        with local_settings(enable_mergejoin="off", enable_nestloop="off", work_mem="64MB"):
            cursor.execute(_PUBLIC_CELL_SQL, [list(column) for column in columns])
        changed = cursor.rowcount
        cursor.execute(_HIDDEN_CELL_SQL)
        return changed + cursor.rowcount
