"""Whether requests met their deadline: the one definition behind the public "respondidas dentro del plazo"
(transparency's `deadline_met_share`) and the staff deadline board (alerts), so the two cannot disagree.

A request is on time when it is closed at or before its deadline (`closed_at <= expected_at`), late when it is
still open past it at the instant judged; the share met is on time / (closed + late) (docs/indicators.md)."""

from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.expressions import BaseExpression

from geo_siac.reports.models import Report
from geo_siac.reports.states import CLOSED

_CLOSED = ", ".join(f"'{status}'" for status in sorted(CLOSED))


def closed_sql(status: str) -> str:
    return f"{status} IN ({_CLOSED})"


def on_time_sql(status: str, closed: str, expected: str) -> str:
    return f"{closed_sql(status)} AND {closed} <= {expected}"


def late_sql(status: str, expected: str, as_of: str) -> str:
    return f"{status} NOT IN ({_CLOSED}) AND {expected} < {as_of}"


def deadline_met_share(*, on_time: int, closed: int, late: int) -> float | None:
    return on_time / (closed + late) if closed + late else None


def deadline_compliance(
    reports: QuerySet[Report], group_by: tuple[BaseExpression, ...] = (), *, as_of: datetime
) -> dict[tuple, dict]:
    """{(value of each group_by expression): {"on_time", "closed", "late", "share"}} over `reports` at `as_of`;
    the key is () without group_by."""
    keys = [f"compliance_key_{n}" for n in range(len(group_by))]
    selection = (
        reports.order_by()
        .annotate(
            **dict(zip(keys, group_by, strict=True)),
            compliance_status=F("status"),
            compliance_closed=F("closed_at"),
            compliance_expected=F("expected_at"),
        )
        .values(*keys, "compliance_status", "compliance_closed", "compliance_expected")
    )
    compiler = selection.query.get_compiler(using=selection.db)
    try:
        reports_sql, params = compiler.as_sql()
    except EmptyResultSet:
        return {}
    status, closed, expected = "r.compliance_status", "r.compliance_closed", "r.compliance_expected"
    columns = "".join(f"r.{key}, " for key in keys)
    sql = (
        f"SELECT {columns}count(*) FILTER (WHERE {on_time_sql(status, closed, expected)}), "
        f"count(*) FILTER (WHERE {closed_sql(status)}), count(*) FILTER (WHERE {late_sql(status, expected, '%s')})"
        f" FROM ({reports_sql}) AS r" + (f" GROUP BY {', '.join(f'r.{key}' for key in keys)}" if keys else "")
    )
    with connections[selection.db].cursor() as cursor:
        cursor.execute(sql, [as_of, *params])  # the FILTER placeholder comes before the subquery's
        rows = cursor.fetchall()
    converters = compiler.get_converters([selection.query.annotations[key] for key in keys])
    rows = compiler.apply_converters(rows, converters) if converters else rows
    return {
        tuple(row[:-3]): {
            "on_time": row[-3],
            "closed": row[-2],
            "late": row[-1],
            "share": deadline_met_share(on_time=row[-3], closed=row[-2], late=row[-1]),
        }
        for row in rows
    }
