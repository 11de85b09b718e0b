"""The year partitions of the report history (docs/deployment.md, "Partitioned history"): a year's reports are those
whose id carries that year, and its events theirs, so its partitions of reports_report and reports_reportevent hold
the report ids [year * YEAR_ID_BASE, (year + 1) * YEAR_ID_BASE). There is no DEFAULT partition: a partition must exist before a
row of its year is written (migrate makes this year's and the next, the importer the years it loads, report_create
its year's if it finds none)."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.reports.models import YEAR_ID_BASE, Report, ReportEvent, YearArchive

PARTITIONED_TABLES = (Report._meta.db_table, ReportEvent._meta.db_table)
# Reports stored before ids carried a year (ids below YEAR_ID_BASE) and any year before 1000 share one partition.
BEFORE_YEAR = 1000


# PostgreSQL's check_violation, without a constraint's name, on a partitioned table: no partition holds the row.
CHECK_VIOLATION = "23514"


class YearArchived(ValueError):
    """A request of a year that was archived (reports.archive) cannot be written: its history is in the archive."""


def archived_year_check(years) -> None:
    """Raise YearArchived naming the first of these years that was archived and where its archive is. Only a year
    already ended can be archived: the current and later ones are not asked (post_migrate's, also when migrating
    back before the archive table)."""
    past = [year for year in years if year < timezone.localdate().year]
    archive = YearArchive.objects.filter(year__in=past).order_by("year").first() if past else None
    if archive is not None:
        raise YearArchived(
            _("%(year)s está archivado (esquema %(schema)s%(dump)s): no se escriben más solicitudes de ese año.")
            % {"year": archive.year, "schema": archive.schema, "dump": f", {archive.dump}" if archive.dump else ""}
        )


def missing_partition(exc: IntegrityError) -> bool:
    """Whether an insert failed because its year has no partition in a history table."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return (
        getattr(cause, "pgcode", None) == CHECK_VIOLATION
        and diag is not None
        and diag.constraint_name is None
        and diag.table_name in PARTITIONED_TABLES
    )


def partition_name(table: str, year: int) -> str:
    return f"{table}_y{year}"


def is_partitioned(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row and row[0])


def year_partitions_ensure(years) -> list[str]:
    """Create the partitions of these years that are not attached yet, in every partitioned history table; returns
    the names created. One that is attached is left as it is, without taking any lock on its table; a table of the
    name that is not attached (a year detached for an archive) makes CREATE fail, loudly, rather than be reused.
    Two writers making the same year at once (two first requests of a year) take turns on an advisory lock named
    after the partition, and the second finds it made. An archived year is refused (YearArchived), and with it
    every write of its requests: report_create, the importer and Open311 make their year's partition here."""
    quote = connection.ops.quote_name
    created = []
    years = sorted(set(years))
    for year in years:
        if not BEFORE_YEAR <= year < 10_000:
            raise ValueError(f"{year} no es un año que lleve el id de una solicitud ({BEFORE_YEAR} a 9999).")
    archived_year_check(years)
    for year in years:
        for table, name in missing_partitions(year):
            # The lock lasts until the CREATE commits, so the one waiting reads the partition once it is there.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
                if (table, name) not in missing_partitions(year):
                    continue
                cursor.execute(
                    f"CREATE TABLE {quote(name)} PARTITION OF {quote(table)} FOR VALUES FROM (%s) TO (%s)",
                    [year * YEAR_ID_BASE, (year + 1) * YEAR_ID_BASE],
                )
            created.append(name)
    return created


def reception_partitions_ensure(moments) -> list[str]:
    """The partitions of the years that the ids of reports received at these moments carry, asked of the same SQL
    function that draws the ids (report_year_of, migration 0034), so that the partition made is the one the row
    goes to whatever the time zone Python runs in. `moments` is a list of datetimes or a query selecting them."""
    return year_partitions_ensure(reception_years(moments))


def reception_years(moments) -> list[int]:
    """The years that the ids of reports received at these moments carry (report_year_of), in order."""
    with connection.cursor() as cursor:
        if isinstance(moments, str):
            cursor.execute(f"SELECT DISTINCT report_year_of(moment) FROM ({moments}) AS received (moment)")
        else:
            cursor.execute("SELECT DISTINCT report_year_of(moment) FROM unnest(%s::timestamptz[]) AS moment", [moments])
        return sorted(year for (year,) in cursor.fetchall() if year is not None)


def current_partitions_ensure() -> list[str]:
    """This year's and next year's partitions (in the installation's time zone), where the tables are partitioned."""
    if not all(is_partitioned(table) for table in PARTITIONED_TABLES):
        return []
    year = timezone.localdate().year
    return year_partitions_ensure([year, year + 1])


def partitioned_tables_analyze() -> list[str]:
    """ANALYZE the partitioned history tables themselves: autovacuum analyzes their partitions but never a
    partitioned parent (PostgreSQL 15), whose row count and column statistics plan every query across years."""
    analyzed = [table for table in PARTITIONED_TABLES if is_partitioned(table)]
    with connection.cursor() as cursor:
        for table in analyzed:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return analyzed


def missing_partitions(year: int) -> list[tuple[str, str]]:
    """(table, partition) for the partitions of `year` not attached to their table (absent, or detached)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parent, name FROM unnest(%s::text[], %s::text[]) AS wanted (name, parent) WHERE NOT EXISTS "
            "(SELECT FROM pg_inherits WHERE inhrelid = to_regclass(name) AND inhparent = to_regclass(parent))",
            [[partition_name(table, year) for table in PARTITIONED_TABLES], list(PARTITIONED_TABLES)],
        )
        return cursor.fetchall()
