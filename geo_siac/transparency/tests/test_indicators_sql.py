"""The SQL indicators against the Python definition they replaced, on a randomized history.

The oracle below is the previous implementation, kept here only as the reference: it reads the first response
and the reopenings from the report's history (ReportEvent), counts business days with
deadlines.business_days_between and takes percentiles with selectors.percentile. The dataset is built through
the write path (report_create, report_change_status, survey_submit) with the clock patched: random times over
five months that cross the Chilean holidays of September to January and both DST changes, random walks through
the allowed transitions (with reopenings), surveys, and reports still open past their deadline. The SQL reads the
facts the write path keeps on the report and the business-day calendar table, so agreement here also checks
those facts.
"""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from unittest.mock import patch

import pytest
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.reports.closing import offers_survey
from geo_siac.reports.deadlines import SANTIAGO, business_days_between
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, survey_submit
from geo_siac.reports.states import CLOSED, DIGITAL_CHANNELS, OPEN, TRANSITIONS, Channel, Status
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE
from geo_siac.transparency.selectors import DIMENSIONS, PARTS, indicators_by, percentile

START = datetime(2026, 8, 25, tzinfo=SANTIAGO)  # before the 6 Sep DST change and the 18-19 Sep holidays
AS_OF = datetime(2027, 1, 20, 15, 30, 17, tzinfo=SANTIAGO)


# ---- The oracle: the Python definition as it stood before the SQL path ----


def _oracle_rows(reports, dimensions):
    first_response = Subquery(
        ReportEvent.objects.filter(report=OuterRef("pk"), kind=EventKind.STATUS, from_status=Status.SUBMITTED)
        .order_by("created_at", "id")
        .values("created_at")[:1]
    )
    reopened = Exists(
        ReportEvent.objects.filter(
            report=OuterRef("pk"), kind=EventKind.STATUS, from_status__in=sorted(CLOSED), to_status__in=sorted(OPEN)
        )
    )
    keys = {f"key_{dimension}": DIMENSIONS[dimension] for dimension in dimensions}
    return reports.annotate(
        **keys, first_response_at_=first_response, reopened=reopened, rating=F("survey__resolution_rating")
    ).values(
        *keys,
        "channel",
        "kind",
        "status",
        "created_at",
        "expected_at",
        "closed_at",
        "first_response_at_",
        "reopened",
        "rating",
    )


def _calendar_days(start, end):
    return (end - start).total_seconds() / 86400


def _business_days(start, end):
    return _business_days_between(start.astimezone(SANTIAGO).date(), end.astimezone(SANTIAGO).date())


@lru_cache(maxsize=1 << 16)
def _business_days_between(start, end):
    """Memoised as the previous implementation was, so bench/indicators.py --oracle times it fairly."""
    return business_days_between(start, end)


@dataclass
class _Group:
    volume: int = 0

    def __post_init__(self):
        self.channels, self.ratings = Counter(), Counter()
        self.response, self.response_b, self.closing, self.closing_b, self.ages = [], [], [], [], []
        self.closed = self.on_time = self.due = self.unanswered = self.unanswered_late = 0
        self.closed_once = self.reopened = self.service_requests = 0

    def add(self, row, as_of):
        created, first, closed = row["created_at"], row["first_response_at_"], row["closed_at"]
        is_closed = row["status"] in CLOSED
        late = not is_closed and row["expected_at"] < as_of
        self.volume += 1
        self.channels[row["channel"]] += 1
        self.service_requests += row["kind"] == RequestKind.SERVICE_REQUEST
        if first:
            self.response.append(_calendar_days(created, first))
            self.response_b.append(_business_days(created, first))
        if is_closed:
            self.closed += 1
            self.on_time += closed <= row["expected_at"]
            self.closing.append(_calendar_days(created, closed))
            self.closing_b.append(_business_days(created, closed))
        else:
            self.ages.append(_calendar_days(created, as_of))
        self.due += is_closed or late
        if row["status"] == Status.SUBMITTED:
            self.unanswered += 1
            self.unanswered_late += late
        if is_closed or row["reopened"]:
            self.closed_once += 1
            self.reopened += bool(row["reopened"])
        if row["rating"] is not None:
            self.ratings[row["rating"]] += 1

    def result(self):
        def share(part, whole):
            return part / whole if whole else None

        answers = sum(self.ratings.values())
        return {
            "volume": self.volume,
            "channel_mix": dict(self.channels),
            "service_requests": self.service_requests,
            "digital_share": share(sum(n for c, n in self.channels.items() if c in DIGITAL_CHANNELS), self.volume),
            "first_response_median_days": percentile(self.response, 0.5),
            "first_response_p90_days": percentile(self.response, 0.9),
            "first_response_median_business_days": percentile(self.response_b, 0.5),
            "first_response_p90_business_days": percentile(self.response_b, 0.9),
            "closing_median_days": percentile(self.closing, 0.5),
            "closing_p90_days": percentile(self.closing, 0.9),
            "closing_median_business_days": percentile(self.closing_b, 0.5),
            "closing_p90_business_days": percentile(self.closing_b, 0.9),
            "closed": self.closed,
            "closed_within_deadline_share": share(self.on_time, self.closed),
            "deadline_met_share": share(self.on_time, self.due),
            "unanswered_share": share(self.unanswered, self.volume),
            "unanswered_past_deadline_share": share(self.unanswered_late, self.unanswered),
            "backlog": len(self.ages),
            "backlog_median_age_days": percentile(self.ages, 0.5),
            "backlog_oldest_age_days": max(self.ages, default=None),
            "reopened_share": share(self.reopened, self.closed_once),
            "satisfaction_responses": answers,
            "satisfaction_average": sum(r * n for r, n in self.ratings.items()) / answers if answers else None,
            "satisfaction_distribution": {rating: self.ratings[rating] for rating in range(1, 6)},
        }


def oracle(reports, dimensions, as_of):
    named = [d for d in dimensions if d is not None]
    groups = {dimension: defaultdict(_Group) for dimension in dimensions}
    parts = {part: {dimension: defaultdict(_Group) for dimension in dimensions} for part in PARTS}
    for row in _oracle_rows(reports, named):
        part = "service_request" if row["kind"] == RequestKind.SERVICE_REQUEST else "other_kinds"
        for dimension in dimensions:
            key = row[f"key_{dimension}"] if dimension else None
            groups[dimension][key].add(row, as_of)
            parts[part][dimension][key].add(row, as_of)
    return {
        dimension: {
            key: {**group.result(), "parts": {part: parts[part][dimension][key].result() for part in PARTS}}
            for key, group in by_key.items()
        }
        for dimension, by_key in groups.items()
    }


# ---- The randomized history ----


def _at(instant):
    return patch("django.utils.timezone.now", return_value=instant)


def _categories():
    """Public service categories (the history is of points) whose extra questions are all optional, from at least two
    departments."""
    return [
        c
        for c in Category.objects.public().filter(kind="service_request")
        if not any(a.get("required") for a in c.attributes)
    ]


@pytest.fixture
def history(make_report):
    rng = random.Random(20261118)
    categories = _categories()
    assert len({c.department for c in categories}) >= 2
    for n in range(120):
        created = START + timedelta(days=rng.uniform(0, 140), seconds=rng.randrange(86400))
        with _at(created):
            report = make_report(
                category=rng.choice(categories).service_code,
                channel=rng.choice(Channel.values),
                description=f"Reporte {n}.",
                point=rng.choice([PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE]),
            )
        when = created
        for _step in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
            when += timedelta(hours=rng.choice([0.01, 2, 20, 50, 170, 400]) * rng.random())
            if when >= AS_OF:
                break
            with _at(when):
                report = report_change_status(
                    public_note=EXPLAINED_BY_CALLER,
                    report=report,
                    status=rng.choice(sorted(TRANSITIONS[report.status])),
                )
        if report.status in CLOSED and rng.random() < 0.5:
            rating = rng.randint(1, 5)  # drawn whether or not it is submitted: the later draws stay the same
            if offers_survey(report):
                survey_submit(report=report, resolution_rating=rating, service_rating=3)
        if rng.random() < 0.25:  # of another kind, for the rows' parts (the facts read the kind alone)
            Report.objects.filter(pk=report.pk).update(kind=rng.choice(RequestKind.values[1:]))
    return Report.objects.all()


@pytest.mark.django_db
def test_sql_indicators_equal_the_python_definition_on_a_random_history(history):
    dimensions = [None, *DIMENSIONS]
    statuses = Counter(history.values_list("status", flat=True))
    assert history.filter(times_reopened__gt=0).exists(), "the random history should hold reopenings"
    assert statuses[Status.SUBMITTED] and sum(statuses[s] for s in CLOSED)

    expected = oracle(history, dimensions, AS_OF)
    actual = indicators_by(history, dimensions, as_of=AS_OF)

    for result in actual["commune"].values():
        for figures in (result, *result["parts"].values()):
            assert figures.pop("per_1000_inhabitants") is None  # no population loaded; not part of the oracle
    assert actual == expected
    assert expected[None][None]["unanswered_past_deadline_share"] > 0
    assert expected[None][None]["reopened_share"] > 0
    assert all(expected[None][None]["parts"][part]["volume"] > 0 for part in PARTS)


@pytest.mark.django_db
def test_sql_indicators_equal_the_python_definition_at_an_earlier_instant_and_on_a_subset(history):
    """The executive report judges a month at its end and filters by comuna: the same agreement holds."""
    as_of = datetime(2026, 10, 1, tzinfo=SANTIAGO)
    subset = history.filter(commune__cut="13201", created_at__lt=as_of)

    assert indicators_by(subset, ["category", None], as_of=as_of) == oracle(subset, ["category", None], as_of)


@pytest.mark.django_db
def test_no_reports_give_no_groups(communes):
    assert indicators_by(Report.objects.none(), [None, "month"]) == {None: {}, "month": {}}


@pytest.mark.django_db
def test_a_report_dated_outside_the_business_day_calendar_is_refused(make_report):
    with _at(datetime(1965, 3, 1, 10, tzinfo=SANTIAGO)):
        make_report()

    with pytest.raises(ValueError, match="outside the business-day calendar"):
        indicators_by(Report.objects.all(), [None], as_of=timezone.now())


@pytest.mark.django_db
def test_received_between_counts_local_days_across_both_dst_changes(make_report):
    """The created_at range equals the local-date filter it replaced, at the edges of the days when Chile's
    clocks jump (6 Sep 2026, 00:00 -> 01:00) and fall back (5 Apr 2026, 00:00 -> 23:00 the day before)."""
    from datetime import date

    from geo_siac.transparency.selectors import received_between

    instants = [
        datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC),  # Sat 5 Sep 23:59:59 -04
        datetime(2026, 9, 6, 4, 0, tzinfo=UTC),  # Sun 6 Sep 01:00 -03, the first instant
        datetime(2026, 4, 5, 2, 59, tzinfo=UTC),  # Sat 4 Apr 23:59 -03
        datetime(2026, 4, 5, 3, 30, tzinfo=UTC),  # Sat 4 Apr 23:30 -04, the repeated hour
        datetime(2026, 4, 5, 4, 0, tzinfo=UTC),
    ]  # Sun 5 Apr 00:00 -04
    for instant in instants:
        with _at(instant):
            make_report()
    reports = Report.objects.all()
    for start, end in [
        (date(2026, 9, 6), date(2026, 9, 7)),
        (date(2026, 9, 5), date(2026, 9, 6)),
        (date(2026, 4, 4), date(2026, 4, 5)),
        (date(2026, 4, 5), date(2026, 4, 6)),
    ]:
        by_local_date = reports.filter(created_at__date__gte=start, created_at__date__lt=end)
        assert set(received_between(reports, start, end)) == set(by_local_date), (start, end)
    assert received_between(reports, date(2026, 4, 4), date(2026, 4, 5)).count() == 2
    assert received_between(reports, date(2026, 9, 6), date(2026, 9, 7)).count() == 1
