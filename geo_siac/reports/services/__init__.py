"""Writes on reports, a module per job: create.py files a report (report_create, the one path of the web form, the
operator console and Open311), photos.py checks and stores any photo, status.py moves a report through its states,
duplicates.py merges a duplicate into its original, assignment.py routes, hands back, reroutes, assigns a
department, extends, reclassifies and changes in bulk, citizen.py holds what a citizen does after filing (follows, surveys, reopening, added information, a fresh letter link),
calendar.py keeps the SQL business-day calendar, publication.py stores where each report is placed in public,
erasure.py erases a person's data on request, actions.py applies a crew's offline change once per key,
information.py runs the Ley 20.285 clock, answers a request by letter and refers a request to another institution,
deadline_repair.py moves open deadlines that fall on a non-business day. Callers
import from here."""

from geo_siac.reports.closing import citizen_may_reopen, citizen_reopen_refusal
from geo_siac.reports.services.actions import ActionOutcome, crew_action_apply
from geo_siac.reports.services.assignment import (
    BulkResult,
    department_refusal,
    extend_refusal,
    reclassify_refusal,
    report_assign_department,
    report_bulk_update,
    report_extend_deadline,
    report_reclassify,
    report_reroute,
    report_return,
    reports_route_unrouted,
    reroute_refusal,
    return_refusal,
)
from geo_siac.reports.services.calendar import business_calendar_sync, closed_day_save, closed_days_delete
from geo_siac.reports.services.citizen import (
    LetterLink,
    answers_correction,
    letter_link_send,
    report_add_citizen_info,
    report_follow,
    report_reopen_by_citizen,
    report_unfollow,
    reporter_language_update,
    survey_submit,
)
from geo_siac.reports.services.create import report_create
from geo_siac.reports.services.deadline_repair import MovedDeadline, open_deadlines_repair
from geo_siac.reports.services.duplicates import report_merge_duplicate
from geo_siac.reports.services.erasure import ERASED, ErasureSummary, reporter_data_erase
from geo_siac.reports.services.information import (
    answer_documents_process,
    answer_refusal,
    answer_validate,
    correction_refusal,
    information_correction_receive,
    information_correction_request,
    information_corrections_lapse,
    information_extend,
    information_extend_refusal,
    refer_refusal,
    report_answer,
    report_refer,
)
from geo_siac.reports.services.publication import report_public_cells_refresh
from geo_siac.reports.services.status import EXPLAINED_BY_CALLER, Unchanged, report_change_status

__all__ = [
    "MovedDeadline",
    "open_deadlines_repair",
    "answers_correction",
    "ERASED",
    "ActionOutcome",
    "BulkResult",
    "ErasureSummary",
    "Unchanged",
    "answer_documents_process",
    "answer_refusal",
    "answer_validate",
    "business_calendar_sync",
    "citizen_may_reopen",
    "citizen_reopen_refusal",
    "LetterLink",
    "letter_link_send",
    "closed_day_save",
    "closed_days_delete",
    "correction_refusal",
    "crew_action_apply",
    "department_refusal",
    "extend_refusal",
    "information_correction_receive",
    "information_correction_request",
    "information_corrections_lapse",
    "information_extend",
    "information_extend_refusal",
    "reclassify_refusal",
    "refer_refusal",
    "report_add_citizen_info",
    "report_answer",
    "report_assign_department",
    "report_bulk_update",
    "report_change_status",
    "EXPLAINED_BY_CALLER",
    "report_create",
    "report_extend_deadline",
    "report_follow",
    "report_merge_duplicate",
    "report_public_cells_refresh",
    "report_reclassify",
    "report_refer",
    "report_reopen_by_citizen",
    "report_reroute",
    "report_return",
    "report_unfollow",
    "reporter_data_erase",
    "reporter_language_update",
    "reports_route_unrouted",
    "reroute_refusal",
    "return_refusal",
    "survey_submit",
]
