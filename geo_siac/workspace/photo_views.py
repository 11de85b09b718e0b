"""Photo and document files, read through Django's storage (the local MEDIA_ROOT, or an S3-compatible store by
configuration) and streamed by the application to whoever may see them, so that any application server answers for
any file."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from geo_siac.reports.models import Report
from geo_siac.reports.selectors import PhotoFile, document_file, photo_file
from geo_siac.reports.views import document_response
from geo_siac.workspace.access import visible_reports

# The names are random and never reused, so a browser may keep a public photo it was allowed to see.
PHOTO_MAX_AGE_SECONDS = 24 * 3600


def is_public_photo(photo: PhotoFile) -> bool:
    """The citizen's photo of a report shown publicly, as on its tracking page: anyone may see it."""
    return photo.citizen and photo.report.public_visibility


def may_see_photo(user, photo: PhotoFile) -> bool:
    """A public photo (is_public_photo); any other only for staff who see the report in their workspace, or who may
    view reports in the admin, and in either case of their comunas."""
    return is_public_photo(photo) or may_see_private_files(user, photo.report)


def may_see_private_files(user, report: Report) -> bool:
    """The rule for a request's private files (a crew's photos, its PDF documents): staff who see the
    report in their workspace, or who may view reports in the admin, and in either case of their comunas."""
    if not (user.is_authenticated and user.is_active):
        return False
    reports = Report.objects.for_staff(user) if user.has_perm("reports.view_report") else visible_reports(user)
    return reports.filter(pk=report.pk).exists()


@require_safe
def photo(request, name: str):
    """A stored photo, or 404 alike for a name no photo has and for a photo this person may not see."""
    found = photo_file(name)
    if found is None or not may_see_photo(request.user, found):
        raise Http404
    try:
        stored = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stored, content_type=found.content_type)
    if is_public_photo(found):
        patch_cache_control(response, private=True, max_age=PHOTO_MAX_AGE_SECONDS)
    else:
        # A private photo stays on no disk: a shared office computer's cache kept it after the session ended.
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def document(request, name: str):
    """A request's PDF (its requester's or its answer's) as reports.views.document_response sends it, or 404 alike for
    a name no document has and for one this person may not see."""
    found = document_file(name)
    if found is None or not may_see_private_files(request.user, found.report):
        raise Http404
    return document_response(found)
