"""Photos and documents: the one path by which a citizen's photo (report_create) and a crew's (report_change_status)
are checked, re-encoded without metadata and stored, and PDF documents (a requester's, an answer's) checked and stored
beside them."""

import secrets
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import RequestKind, takes_documents
from geo_siac.reports.models import EventPhoto, Report, ReportDocument, ReportEvent, ReportPhoto
from geo_siac.reports.photos import MB, ProcessedDocument, ProcessedPhoto, process_document, process_photo

# PDFs per submission: a power of attorney, an identity card, the documents a request refers to.
MAX_DOCUMENTS = 5


def photo_process(photo) -> ProcessedPhoto:
    """Any photo a person sends (bytes or an uploaded file), checked and re-encoded by reports.photos under the
    installation's size limit, GEO_SIAC_PHOTO_MAX_BYTES. Raises ValidationError under `photo`; callers run it
    before they write anything."""
    try:
        return process_photo(photo, max_bytes=settings.GEO_SIAC_PHOTO_MAX_BYTES)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from exc


def photo_save(processed: ProcessedPhoto, image: FieldFile, thumbnail: FieldFile | None = None) -> None:
    """Write a checked photo, and its thumbnail where the row has a place for one, through Django's storage. A
    rolled-back transaction can leave an orphan file, never a row.

    The name is random, a second lock behind the photo view's access check (workspace.photo_views): a name derived
    from the tracking code and the month would let anyone holding a code guess the names of that report's photos."""
    name = f"{secrets.token_urlsafe(18)}.{processed.extension}"
    image.save(name, ContentFile(processed.image), save=False)
    if thumbnail is not None:
        thumbnail.save(name, ContentFile(processed.thumbnail), save=False)


def report_photo_store(*, report: Report, processed: ProcessedPhoto, created_at=None) -> ReportPhoto:
    """A citizen's photo, with its thumbnail for lists: sent with the report, or later (`created_at`)."""
    photo = ReportPhoto(
        report=report,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        created_at=created_at or report.created_at,
    )
    photo_save(processed, photo.image, photo.thumbnail)
    photo.save()
    return photo


def event_photo_store(*, event: ReportEvent, processed: ProcessedPhoto, added_by: str = "") -> EventPhoto:
    """A photo of an event (a crew's status change or note, a citizen's added information, `added_by` the citizen's
    e-mail). It names the event's report as well: the events table is partitioned by report, and the database's key
    to an event is the pair."""
    photo = EventPhoto(event=event, report_id=event.report_id, added_by=added_by)
    photo_save(processed, photo.image)
    photo.save()
    return photo


def documents_process(kind: str, documents, *, send_rest_later: bool = True) -> list[ProcessedDocument]:
    """The PDFs a person sends with a request of `kind` (uploaded files or bytes), each checked by reports.photos
    under GEO_SIAC_DOCUMENT_MAX_BYTES. Raises ValidationError under `documents`, naming the file; a kind that takes
    no documents refuses any; `send_rest_later`: a citizen over the total is told to send the rest with «Agregar
    información» (an officer's answer has no such way). Callers run it before they write anything."""
    documents = [document for document in documents or () if document]
    if not documents:
        return []
    if not takes_documents(kind):
        raise ValidationError(
            {
                "documents": _("Una solicitud de tipo «%(kind)s» no lleva documentos PDF: adjunte una foto.")
                % {"kind": RequestKind(kind).label}
            }
        )
    if len(documents) > MAX_DOCUMENTS:
        raise ValidationError({"documents": _("Adjunte a lo más %(max)d documentos PDF.") % {"max": MAX_DOCUMENTS}})
    try:
        checked = [process_document(document, max_bytes=settings.GEO_SIAC_DOCUMENT_MAX_BYTES) for document in documents]
    except ValidationError as exc:
        raise ValidationError({"documents": exc.messages}) from exc
    # One submission stays under the proxy's body limit (deploy/nginx.conf.template), which answers in English.
    total = sum(document.size for document in checked)
    if total > settings.GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES:
        message = (
            _(
                "Los documentos PDF suman %(total)s MB; el máximo por envío es %(max)s MB. Envíe algunos ahora "
                "y los demás con «Agregar información»."
            )
            if send_rest_later
            else _("Los documentos PDF suman %(total)s MB; el máximo por envío es %(max)s MB.")
        )
        sizes = {"total": mb_text(total), "max": mb_text(settings.GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES)}
        raise ValidationError({"documents": message % sizes})
    return checked


def mb_text(size: int) -> str:
    """A size in MB as the forms write it: one decimal at most, with a comma."""
    return f"{round(size / MB, 1):g}".replace(".", ",")


def documents_offer(kind: str) -> dict | None:
    """What a form of a request of `kind` tells of the PDFs it takes (reports/_documents_field.html), or None."""
    if not takes_documents(kind):
        return None
    return {"max_files": MAX_DOCUMENTS, "max_mb": mb_text(settings.GEO_SIAC_DOCUMENT_MAX_BYTES)}


# The document files written inside the innermost documents_removed_on_rollback, or None outside one.
_written_documents: ContextVar[list[str] | None] = ContextVar("written_documents", default=None)


@contextmanager
def documents_removed_on_rollback():
    """Around a service's transaction (outside its atomic block, so a failed COMMIT counts too): the document files
    report_document_store writes inside are deleted if the block raises, so a rolled-back filing leaves no requester's
    PDF behind that no row names and no erasure would find. Nested, the outer block takes them over. A transaction of
    a caller that rolls back after this block ends is not seen: photos (photo_save) take that risk for every write."""
    written: list[str] = []
    token = _written_documents.set(written)
    try:
        yield
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    finally:
        _written_documents.reset(token)
    if (outer := _written_documents.get()) is not None:
        outer.extend(written)


def report_document_store(
    *, report: Report, processed: ProcessedDocument, created_at, added_by: str = "", letter=None
) -> ReportDocument:
    """A checked PDF, the requester's or, with `letter`, the institution's answer, under a random name like a photo's
    (photo_save's reason)."""
    document = ReportDocument(
        report=report, name=processed.name, size=processed.size, added_by=added_by, letter=letter, created_at=created_at
    )
    document.file.save(f"{secrets.token_urlsafe(18)}.pdf", ContentFile(processed.content), save=False)
    if (written := _written_documents.get()) is not None:
        written.append(document.file.name)
    document.save()
    return document
