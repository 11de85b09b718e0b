import pytest
from django.core.exceptions import ValidationError

from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.states import TRANSITIONS, Status

DISALLOWED = [
    (current, target) for current in Status.values for target in Status.values if target not in TRANSITIONS[current]
]


def walk_to(report, status):
    """Bring a fresh report to `status` through allowed transitions."""
    path = {
        Status.SUBMITTED: [],
        Status.ACKNOWLEDGED: [Status.ACKNOWLEDGED],
        Status.IN_PROGRESS: [Status.IN_PROGRESS],
    }.get(status, [status])
    for step in path:
        report = report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status=step)
    return report


@pytest.mark.parametrize(("current", "target"), DISALLOWED)
def test_every_disallowed_transition_is_rejected_and_leaves_the_report_as_it_was(make_report, current, target):
    report = walk_to(make_report(), current)
    events = report.events.count()
    with pytest.raises(ValidationError) as caught:
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status=target, note="intento")
    # The same status is not a transition: it is refused as already done (a bulk change reports it as unchanged).
    expected = f"Ya está en «{Status(target).label}»." if target == current else "No se puede pasar"
    assert expected in caught.value.message_dict["status"][0]
    report.refresh_from_db()
    assert report.status == current and report.events.count() == events


def test_crew_flow_acknowledged_in_progress_resolved_is_allowed_and_recorded(make_report):
    report = make_report()
    for status in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED):
        report = report_change_status(
            public_note=EXPLAINED_BY_CALLER, report=report, status=status, note=f"paso {status}"
        )
    assert report.closed_at is not None
    assert list(report.events.filter(kind="status").values_list("to_status", flat=True)) == [
        "acknowledged",
        "in_progress",
        "resolved",
    ]
