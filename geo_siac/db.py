"""Database session helpers shared by every app."""

import hashlib
import itertools
import re
import weakref
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from time import time
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, router, transaction
from django.db.models import DateTimeField, Expression, Field, Lookup
from django.db.models.lookups import Range
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery
from psycopg2.extensions import AsIs


def unique_row(queryset):
    """The one row of a lookup by a unique key, or None. `first()` would sort by the model's ordering (for a
    category, a join on its group) and Django builds that ORDER BY on every call, on every report submission."""
    found = list(queryset.order_by()[:1])
    return found[0] if found else None


# The names of the statements each database session (a driver connection) has prepared (PreparedStatement).
PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# What EXECUTE answers when a migration changed the type of a column a prepared statement reads ("cached plan must
# not change result type"). A column gone fails the same with the ORM: preparing again would not help.
STALE_PLAN = "0A000"
# What EXECUTE answers when the session has no statement of that name: DEALLOCATE ALL or DISCARD ALL (a pool's reset
# of the session) dropped what this process had prepared there.
UNKNOWN_STATEMENT = "26000"
# Numbers for the statements' names, never reused in a process: a statement outlives its user on the session, and a
# name from id() could come back to a new user after the old one is collected and run the old one's query.
STATEMENT_NUMBERS = itertools.count(1)


class PreparedStatement:
    """A statement PREPAREd on each database session the first time it is sent there, each call an EXECUTE of it:
    PostgreSQL parses it once per session, and plans it once when it keeps a generic plan. The one place that
    prepares statements (KeyLookup, QueryTemplate, execute_prepared).

    `sql` and `params` are as for `cursor.execute`, each of the statement's parameters an `AsIs("$n")` among the
    params, every other value written into the statement's text. Its name starts with `prefix` (a table's name, so
    that a statement log, or a test, can tell what an EXECUTE reads) and ends with a number never reused in the
    process. The PREPARE goes to the driver's cursor, so that it counts as no query of the request's. This assumes a
    session is one process's alone (no pool handing it from client to client between transactions).
    """

    def __init__(self, prefix: str, sql: str, params: list):
        self.prefix, self.sql, self.params = prefix, sql, params
        self.number = next(STATEMENT_NUMBERS)

    @property
    def name(self) -> str:
        return f"{self.prefix}_{self.number}"

    def execute(self, cursor, arguments: Sequence) -> None:
        """EXECUTE it with `arguments` on a Django cursor (the rows left to fetch), preparing it on the session first.

        Two errors of EXECUTE's own are answered here, once. A stale plan (a rolling deploy: another server migrated a
        column this statement reads while this session kept it): the statement takes a new name, prepared afresh on
        each session's next call. An unknown statement (DEALLOCATE ALL, DISCARD ALL): this session's statements are
        forgotten, each prepared again on its next call. Outside a transaction the call is then sent again; inside
        one the error has aborted it, so the error is raised, the next call (the next request's) prepares afresh,
        and a session with a stale statement is closed when the request ends."""
        database = cursor.db
        try:
            self.send(cursor, arguments)
        except DatabaseError as error:
            code = getattr(error.__cause__, "pgcode", None)
            if code == STALE_PLAN:
                self.number = next(STATEMENT_NUMBERS)
                if database.in_atomic_block:
                    database.close_at = 0
            elif code == UNKNOWN_STATEMENT:
                PREPARED.pop(database.connection, None)
            else:
                raise
            if database.in_atomic_block:
                raise
            self.send(cursor, arguments)

    def send(self, cursor, arguments: Sequence) -> None:
        database, name = cursor.db, self.name
        prepared = PREPARED.setdefault(database.connection, set())
        if name not in prepared:
            text = cursor.mogrify(self.sql, self.params).decode()
            with database.wrap_database_errors:
                cursor.cursor.execute(f"PREPARE {name} AS {text}")
            prepared.add(name)
        cursor.execute(
            f"EXECUTE {name}({', '.join(['%s'] * len(arguments))})" if arguments else f"EXECUTE {name}", arguments
        )


class KeyLookup:
    """`unique_row(build(value))`, with the query compiled by Django's ORM once instead of on every call.

    `build` takes the looked-up value (text) and returns a queryset of one model, without annotations, whose every
    other condition is a constant (a flag, never "now"). The first call compiles it with a marker in place of the
    value; later calls send the same SQL with the value in the marker's place, and turn the row into an instance
    (with its select_related instances) with the compiler's own columns, converters and related populators, as a
    queryset's iteration does. Each Open311 POST makes three such lookups (API key, jurisdiction, service code), and
    compiling them was most of their cost; a tracking page's report with its comuna and category was a quarter of
    the page's CPU.
    """

    MARKER = "geo-siac-key-lookup-marker"

    def __init__(self, build, marker=MARKER):
        self.build = build
        self.marker = marker
        self.compiled = None
        self.statement = None

    def queryset(self):
        return self.build(self.marker).order_by()[:1]

    def compile(self):
        queryset = self.queryset()
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if (
            params.count(self.marker) != 1
            or compiler.annotation_col_map
            or queryset._prefetch_related_lookups
            or queryset.query.extra_select
        ):
            raise ValueError(
                "KeyLookup needs a model query without annotations, prefetches or extra columns, the value in exactly"
                " one condition"
            )
        columns = [column for column, _, _ in compiler.select]
        fields = compiler.klass_info["select_fields"]
        own = slice(fields[0], fields[-1] + 1)
        return SimpleNamespace(
            model=queryset.model,
            sql=sql,
            params=list(params),
            index=params.index(self.marker),
            own=own,
            names=[column.target.attname for column in columns[own]],
            converters=compiler.get_converters(columns),
            klass_info=compiler.klass_info,
            select=compiler.select,
            populators={},
        )

    def rows(self, value) -> tuple[str, list]:
        """The rows for `value`, converted as the ORM would, and the database alias they were read from. The query is
        a statement prepared once per session (PreparedStatement): PostgreSQL plans it once per session instead of
        on every call (planning a request by id took 0.45 ms of its 0.55)."""
        query = self.compiled = self.compiled or self.compile()
        if self.statement is None:
            params = [AsIs("$1") if n == query.index else p for n, p in enumerate(query.params)]
            self.statement = PreparedStatement(f"{query.model._meta.db_table}_lookup", query.sql, params)
        # Routed on every call: a public page's lookup reads from the replica, a submission's from the primary.
        alias = router.db_for_read(query.model)
        database = connections[alias]
        with database.cursor() as cursor:
            self.statement.execute(cursor, [value])
            rows = cursor.fetchall()
        return alias, converted(rows, query.converters, database)

    def __call__(self, value):
        alias, rows = self.rows(value)
        if not rows:
            return None
        query, row = self.compiled, rows[0]
        found = query.model.from_db(alias, query.names, row[query.own])
        # As ModelIterable: one populator per select_related model, made once per database alias (they keep no
        # state of a row).
        populators = query.populators.get(alias)
        if populators is None:
            populators = query.populators[alias] = get_related_populators(query.klass_info, query.select, alias)
        for populator in populators:
            populator.populate(row, found)
        return found


class RowsByKey(KeyLookup):
    """KeyLookup for every row of the key, in the queryset's own order, as instances (without select_related): a
    request's timeline or answer letters, which the tracking page built with the ORM on every view. `marker` must be
    a value of the key's type that no other condition uses (an impossible key)."""

    def queryset(self):
        queryset = self.build(self.marker)
        if queryset.query.select_related:
            raise ValueError("RowsByKey loads the rows' own model only: no select_related")
        return queryset

    def __call__(self, value) -> list:
        alias, rows = self.rows(value)
        query = self.compiled
        return [query.model.from_db(alias, query.names, row) for row in rows]


def values_columns(queryset, user: str) -> SimpleNamespace:
    """The SQL of a `values()` queryset as its compiler writes it, with what turns a fetched row into the dict its
    iteration yields: the names (as ValuesIterable gives them) and the compiler's converters."""
    query = queryset.query
    if query.extra_select or not query.selected:
        raise ValueError(f"{user} needs a values() query without extra()")
    compiler = query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
    return SimpleNamespace(
        model=queryset.model,
        sql=sql,
        params=list(params),
        names=list(query.selected),
        converters=compiler.get_converters(columns),
    )


def converted(rows: list, converters: dict, database) -> list:
    """Rows converted as SQLCompiler.apply_converters does (JSON, geometry and other column types)."""
    if not converters:
        return rows
    rows = [list(row) for row in rows]
    for row in rows:
        for position, (functions, expression) in converters.items():
            for function in functions:
                row[position] = function(row[position], expression, database)
    return rows


class RowLookup(KeyLookup):
    """KeyLookup for a `values()` queryset, joins and annotations allowed: its one row as a dict, or None. `marker`
    must be a value of the looked-up column's type that no other condition uses (an impossible key)."""

    def compile(self):
        query = values_columns(self.build(self.marker).order_by()[:1], "RowLookup")
        if query.params.count(self.marker) != 1:
            raise ValueError("RowLookup needs a values() query with the value in exactly one condition")
        query.index = query.params.index(self.marker)
        return query

    def __call__(self, value):
        _, rows = self.rows(value)
        return dict(zip(self.compiled.names, rows[0], strict=True)) if rows else None


class Slot(Expression):
    """A value left open in a query QueryTemplate compiles once: `filter(created_at__gte=Slot("start"))`. It
    compiles to one parameter, which the template fills with the value of that name on each call."""

    def __init__(self, name: str, output_field=None):
        super().__init__(output_field=output_field or Field())
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [SlotName(self.name)]


class SlotName(str):
    """The parameter a Slot leaves in compiled SQL (a distinct type: no real value can be mistaken for it)."""


# Django writes a slice's bounds into the SQL as numbers; a slice up to a Slot is written with a mark of this size
# (one per slot name) that QueryTemplate then turns into a parameter (slot_sliced).
LIMIT_MARK_BASE = 1_999_000_000
LIMIT_MARKS: dict[str, int] = {}


def slot_sliced(queryset, first):
    """`queryset[:first]`, where `first` is a number or a Slot (the number a QueryTemplate fills in on each call)."""
    if not isinstance(first, Slot):
        return queryset[:first]
    mark = LIMIT_MARKS.setdefault(first.name, LIMIT_MARK_BASE + len(LIMIT_MARKS))
    return queryset[:mark]


def limits_as_slots(sql: str, params: list) -> tuple[str, list]:
    """The SQL with each `LIMIT <mark>` of slot_sliced as `LIMIT %s`, its SlotName among the params in the place
    that placeholder takes."""
    names = {mark: name for name, mark in LIMIT_MARKS.items()}
    params, pieces, taken, cursor = list(params), [], 0, 0
    for match in re.finditer(r"%%|%s|LIMIT (\d+)", sql):
        if match.group(0) == "%s":
            taken += 1
        elif match.group(1) is not None and int(match.group(1)) in names:
            pieces.append(sql[cursor : match.start()] + "LIMIT %s")
            cursor = match.end()
            params.insert(taken, SlotName(names[int(match.group(1))]))
            taken += 1
    return "".join(pieces) + sql[cursor:], params


@Field.register_lookup
class AnyOf(Lookup):
    """`column = ANY(%s)`: a list as one array parameter (`filter(status__any=[...])`), so that the SQL does not
    change with the list's length and a QueryTemplate can hold it; PostgreSQL plans `IN (...)` as this."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [list(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


@DateTimeField.register_lookup
class InWindow(Range):
    """`tstzrange(start, end, '[]') @> column`: `column BETWEEN start AND end` that PostgreSQL (15) cannot answer
    from an index on the column. In a prepared statement's generic plan the planner guesses that any window of
    parameters keeps 0.5% of the rows, and then walked or intersected a date index over the whole 90 days instead of
    the box's cell index (docs/performance.md, "Open311"); written this way, only the cells are an index condition.
    Unlike BETWEEN, a start after the end is an error and a NULL end is open: callers pass a checked window."""

    lookup_name = "in_window"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        (start, end), rhs_params = self.process_rhs(compiler, connection)
        return f"tstzrange({start}, {end}, '[]') @> {lhs}", [*rhs_params, *lhs_params]


class QueryTemplate:
    """The rows of a `values()` query, compiled by Django's ORM once per shape instead of on every call.

    `build(shape)` returns the queryset for a shape (a hashable naming which conditions it has), its variable
    values as Slots; each call sends the compiled SQL with the slots filled from `values`, then `LIMIT`/`OFFSET`,
    and converts the rows as the queryset's iteration would. Compiling the Open311 list (a box's ~250 H3 cells,
    a union, a subquery) was half of its CPU (docs/performance.md).

    With `prepared`, each shape is a statement PREPAREd once per database session (its slots, limit and offset its
    parameters, every other value written into it) and each call an EXECUTE: PostgreSQL parses it once per session
    and, after five executions, keeps a generic plan when it estimates it no dearer than the custom ones
    (plan_cache_mode auto); planning the Open311 list over the report partitions cost more than running it. Values
    the plan must see (a status set a partial index's predicate names) belong in the shape, not in slots, and so
    does a limit it must see (the nearest few by a GiST index: a generic plan cannot know a parameter's limit): a
    prepared template's `build` may take the query's first few (`[:number]`), a number its statement's text then
    holds, and its calls take no limit or offset. A generic plan is assumed, and after report_create in the same
    transaction it is forced (its statement sets plan_cache_mode to force_generic_plan for the rest of the
    transaction, REPORT_INSERT says why), as it is in a django_db test after its first make_report.
    """

    def __init__(self, build, *, prepared: bool = False):
        self.build = build
        self.shapes = {}
        self.prepared = prepared

    def compile(self, shape):
        queryset = self.build(shape)
        sliced = queryset.query.is_sliced
        if sliced and (queryset.query.low_mark or not self.prepared):
            raise ValueError(
                "QueryTemplate pages the query itself: build it without a slice (a prepared one may take its first few)"
            )
        query = values_columns(queryset, "QueryTemplate")
        query.sliced = sliced
        query.sql, query.params = limits_as_slots(query.sql, query.params)
        query.slots = [(index, param) for index, param in enumerate(query.params) if isinstance(param, SlotName)]
        query.slot_names = list(dict.fromkeys(name for _, name in query.slots))
        query.statement = None
        return query

    def rows(self, shape, values: dict, *, limit: int | None = None, offset: int = 0) -> list[dict]:
        query = self.shapes.get(shape)
        if query is None:
            query = self.shapes[shape] = self.compile(shape)
        if query.sliced and (limit is not None or offset):
            raise ValueError("this QueryTemplate's query has its own limit")
        database = connections[router.db_for_read(query.model)]
        if self.prepared:
            rows = self.executed(database, query, values, limit, offset)
        else:
            params = query.params.copy()
            for index, name in query.slots:
                params[index] = values[name]
            sql = query.sql
            if limit is not None:
                sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
            with database.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        names = query.names
        return [dict(zip(names, row, strict=True)) for row in converted(rows, query.converters, database)]

    def executed(self, database, query, values: dict, limit: int | None, offset: int) -> list:
        """The shape's rows through its prepared statement: its slots are $1, $2... in the order they first appear,
        then the limit and the offset (a NULL limit is none), unless the query has its own limit."""
        if query.statement is None:
            names = query.slot_names
            numbers = {slot: AsIs(f"${n}") for n, slot in enumerate(names, start=1)}
            params = [numbers[p] if isinstance(p, SlotName) else p for p in query.params]
            sql = query.sql
            if not query.sliced:
                params += [AsIs(f"${len(names) + 1}"), AsIs(f"${len(names) + 2}")]
                sql = f"{sql} LIMIT %s OFFSET %s"
            query.statement = PreparedStatement(f"{query.model._meta.db_table}_list", sql, params)
        arguments = [values[name] for name in query.slot_names]
        if not query.sliced:
            arguments += [limit, offset]
        with database.cursor() as cursor:
            query.statement.execute(cursor, arguments)
            return cursor.fetchall()


@contextmanager
def local_settings(**values):
    """PostgreSQL settings for the statements of this block, put back as they were when it ends. The block runs in a
    transaction (a savepoint inside another one), so a failure rolls the settings back with it."""
    with transaction.atomic(), connection.cursor() as cursor:
        previous = {}
        for name, value in values.items():
            cursor.execute("SELECT current_setting(%s)", [name])
            previous[name] = cursor.fetchone()[0]
            cursor.execute("SELECT set_config(%s, %s, true)", [name, str(value)])
        yield
        for name, value in previous.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextmanager
def parallel_query():
    """Let PostgreSQL use parallel workers for the queries of this block (settings.GEO_SIAC_PARALLEL_WORKERS per
    query). Application sessions start with parallel query off (settings.PG_SESSION_OPTIONS): it suits the few
    analytical reads over millions of rows (docs/performance.md) and costs everyone else CPU when many small requests
    run at once."""
    with local_settings(max_parallel_workers_per_gather=int(settings.GEO_SIAC_PARALLEL_WORKERS)):
        yield


def insert_sql(obj) -> tuple[str, tuple]:
    """The INSERT `obj.save(force_insert=True)` would send, without RETURNING, to be embedded in a larger statement:
    the columns and values come from the model's own fields (defaults, pre_save, geometry and JSON adapters)
    through Django's compiler, as save() does. An auto field is left to its column's default unless it holds an
    expression (a report's ReportYearId)."""
    meta = obj._meta
    computed_pk = hasattr(obj.pk, "resolve_expression")
    fields = [f for f in meta.local_concrete_fields if (f is not meta.auto_field or computed_pk) and not f.generated]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    [(sql, params)] = query.get_compiler(connection=default_connection()).as_sql()
    return sql, params


# compiled_insert_sql: the SQL per model and shape, and one insert compiler per database connection and model.
INSERT_SHAPES: dict = {}
INSERT_COMPILERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@lru_cache(maxsize=64)
def insert_fields(meta, computed_pk: bool) -> tuple:
    """The fields insert_sql writes, for a pk that holds an expression or not."""
    return tuple(f for f in meta.local_concrete_fields if (f is not meta.auto_field or computed_pk) and not f.generated)


def compiled_insert_sql(obj) -> tuple[str, tuple]:
    """insert_sql(obj), the statement written once per shape rather than compiled for every object.

    Each value is prepared as Django's insert compiler prepares it (pre_save, then get_db_prep_save; an expression
    resolved and compiled), with the placeholder the compiler would give it (a geometry's depends on its SRID, an
    expression's is its own SQL). The fields and those placeholders are the shape, and the statement is written
    once per shape as the compiler writes it. Compiling the report's INSERT was the largest single entry of a
    submission's CPU (docs/performance.md)."""
    meta = obj._meta
    computed_pk = hasattr(obj.pk, "resolve_expression")
    fields = insert_fields(meta, computed_pk)
    database = default_connection()
    compiler = None
    placeholders, params = [], []
    for field in fields:
        value = field.pre_save(obj, add=True)
        get_placeholder = getattr(field, "get_placeholder", None)
        if get_placeholder is None and not hasattr(value, "resolve_expression"):
            value = field.get_db_prep_save(value, database)
            if not hasattr(value, "as_sql"):
                placeholders.append("%s")
                params.append(value)
                continue
        compiler = compiler or insert_compiler(database, type(obj))
        sql, value_params = compiler.field_as_sql(field, get_placeholder, compiler.prepare_value(field, value))
        placeholders.append(sql)
        params.extend(value_params)
    shape = (type(obj), computed_pk, *placeholders)
    sql = INSERT_SHAPES.get(shape)
    if sql is None:
        # As SQLInsertCompiler.as_sql writes one row without RETURNING or ON CONFLICT.
        quote = database.ops.quote_name
        sql = INSERT_SHAPES[shape] = " ".join(
            [
                f"{database.ops.insert_statement(on_conflict=None)} {quote(meta.db_table)}",
                f"({', '.join(quote(f.column) for f in fields)})",
                database.ops.bulk_insert_sql(fields, [placeholders]),
            ]
        )
    return sql, tuple(params)


def insert_compiler(database, model):
    """An insert compiler of `model` on this connection, made once: compiled_insert_sql asks it to prepare and
    place the values whose placeholder is not a plain parameter."""
    compilers = INSERT_COMPILERS.setdefault(database, {})
    compiler = compilers.get(model)
    if compiler is None:
        compiler = compilers[model] = InsertQuery(model).get_compiler(connection=database)
    return compiler


def default_connection():
    """The default database's connection object itself, rather than the `django.db.connection` proxy: every attribute
    read through the proxy looks the thread's connection up again (asgiref.local), about 70 times per report INSERT
    compiled, which was a quarter of that compilation's CPU (docs/performance.md)."""
    return connections[DEFAULT_DB_ALIAS]


def typed_values(objs, fields) -> tuple[str, list]:
    """`VALUES` rows for these objects' fields, each value cast to its column's type (a NULL in VALUES has no type
    of its own), for an `INSERT ... SELECT` that takes other columns from elsewhere in the statement."""
    database = default_connection()
    row = typed_row(tuple(fields))
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), database) for obj in objs for field in fields]
    return ", ".join([row] * len(objs)), params


@lru_cache(maxsize=16)
def typed_row(fields: tuple) -> str:
    """One row of typed_values' placeholders, each cast to its field's column type: written once per fields."""
    database = default_connection()
    return f"({', '.join(f'%s::{field.cast_db_type(database)}' for field in fields)})"


# execute_prepared: each statement text's PreparedStatement.
STATEMENTS: dict[str, PreparedStatement] = {}


def execute_prepared(cursor, sql: str, params: Sequence, *, table: str) -> None:
    """`cursor.execute(sql, params)` (a Django cursor) as an EXECUTE of a statement prepared once per session and
    text (PreparedStatement): PostgreSQL parses and plans a statement sent on every submission (the report's INSERT
    with its key, events and token) once per session instead of on every call. `params` is a sequence, one value
    per `%s` of `sql` (never a dict of `%(name)s`), and each `%s` becomes a parameter ($1, $2... in order); every
    other part of the text is the statement's, so a text that varies (a shape) is a statement of its own. `table`
    names it, as KeyLookup's. EXECUTE raises what the statement would."""
    statement = STATEMENTS.get(sql)
    if statement is None:
        numbers = [AsIs(f"${n}") for n in range(1, len(params) + 1)]
        statement = STATEMENTS[sql] = PreparedStatement(f"{table}_statement", sql, numbers)
    statement.execute(cursor, params)


def advisory_lock_id(name: str) -> int:
    """A PostgreSQL advisory lock number (bigint) for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def refreshed_by_one(key: str, compute, fresh_seconds: int):
    """`compute()`, kept in the cache under `key` and recomputed every `fresh_seconds` by one process at a time.

    Once the value is due, the first request to take the key's PostgreSQL advisory lock recomputes it while every
    other process keeps serving the previous value: the public map's cells are an expensive query, and each worker
    used to recompute them at once whenever the cached page expired, the requests behind
    them waiting. With no value at all (a cold start, an eviction) the others wait for the lock and read what the
    first one computed. The previous value is kept for eleven more periods, should refreshing fail meanwhile.
    """
    entry = cache.get(key)
    if entry is not None and entry["fresh_until"] > time():
        return entry["value"]
    with transaction.atomic(), connection.cursor() as cursor:  # the lock ends with the transaction
        if entry is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_id(key)])
            entry = cache.get(key)
            if entry is not None and entry["fresh_until"] > time():
                return entry["value"]  # computed by the process this one waited for
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [advisory_lock_id(key)])
            if not cursor.fetchone()[0]:
                return entry["value"]  # another process is refreshing it
        value = compute()
    cache.set(key, {"value": value, "fresh_until": time() + fresh_seconds}, timeout=fresh_seconds * 12)
    return value
