"""The formal answer letter of a reclamo or an access-to-information request (docs/answer-letters.md): its text,
worked out once at answering time in the request's language (`letter_content`, what AnswerLetter.content keeps),
and its PDF drawn from that text (`letter_pdf`). The HTML page draws the same text (reports/letter.html)."""

from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import OUTCOME_REFERENCE, DenialGround, LegalOutcome, RequestKind, rule
from geo_siac.reports.deadlines import written_day
from geo_siac.reports.models import Report, Signatory
from geo_siac.reports.responsibility import responsible_department_name
from geo_siac.zones.selectors import municipality_name


def _signer(officer) -> tuple[str, str | None]:
    """The officer's full name and Signatory title, read in one query, so a check and its use cannot disagree."""
    if not officer:
        return "", None
    return officer.get_full_name().strip(), Signatory.objects.filter(user=officer).values_list(
        "title", flat=True
    ).first()


def _missing_message() -> str:
    return _(
        "Para firmar cartas, su cuenta necesita nombre completo y cargo de firmante. Pídalos a quien administra "
        "las cuentas de su comuna: el nombre en Administración › Usuarios, el cargo en Administración › "
        "Solicitudes ciudadanas › Firmantes de cartas."
    )


def signer_missing(officer) -> str | None:
    """Why the officer cannot sign a letter (a full name and a Signatory title are needed), or None: the answering
    form says it before anything is typed, and signer_of refuses with it."""
    name, title = _signer(officer)
    return None if name and title else _missing_message()


def signer_of(officer) -> tuple[str, str]:
    """The officer's full name and title (Signatory.title), refused with what is missing: a letter is signed."""
    name, title = _signer(officer)
    if not (name and title):
        raise ValidationError({"__all__": _missing_message()})
    return name, title


def seal(region: str) -> str:
    """The region line under the municipality's name, as municipal letterheads print it."""
    return region if not region or region.lower().startswith("región") else f"Región {region}"


def shown_date(moment: datetime) -> str:
    """The local day in the letter's language, written out as a formal letter dates itself (20 de enero de 2027)."""
    return written_day(moment)


def letter_content(
    *, report: Report, officer, note: str, outcome: str, ground: str, now: datetime, documents=()
) -> dict:
    """The letter's every line, in the request's language, as plain strings (frozen in AnswerLetter.content), with
    the `documents` it delivers (ProcessedDocument) listed by name and size."""
    signer, title = signer_of(officer)
    kind_rule = rule(report.kind)
    commune = report.commune.name
    with translation.override(report.language):
        content = {
            "municipality": municipality_name(report.commune),
            "seal": seal(report.commune.region),
            "department": responsible_department_name(report),
            "place_date": f"{commune}, {shown_date(now)}",
            "title": _("Respuesta a su solicitud de acceso a información pública")
            if report.kind == RequestKind.INFORMATION
            else _("Respuesta a su reclamo"),
            "request_line": _("Solicitud %(code)s, recibida el %(day)s: %(topic)s.")
            % {"code": report.tracking_code, "day": shown_date(report.created_at), "topic": report.category.name},
            "code": report.tracking_code,
            "salutation": _("Estimado(a) %(name)s:") % {"name": report.reporter_name}
            if report.reporter_name
            else _("Estimado(a) vecino(a):"),
            "reference": _("Referencia legal: %(law)s") % {"law": kind_rule.letter_reference},
            "outcome": str(LegalOutcome(outcome).label) if outcome else "",
            "outcome_reference": str(OUTCOME_REFERENCE[outcome]) if outcome else "",
            "ground": str(DenialGround(ground).label) if ground else "",
            "body": note,
            "remedy": str(kind_rule.letter_remedy),
            "closing": _("Saluda atentamente,"),
            "signer": signer,
            "signer_title": title,
        }
        content["attachments_title"] = _("Documentos adjuntos") if documents else ""
        content["attachments"] = [
            {"name": document.name, "size": filesizeformat(document.size)} for document in documents
        ]
        content["outcome_line"] = _("Resultado: %(outcome)s") % {"outcome": content["outcome"]} if outcome else ""
        content["ground_line"] = _("Causal legal: %(ground)s") % {"ground": content["ground"]} if ground else ""
    return content


def letter_pdf(content: dict) -> bytes:
    """The letter as an A4 PDF: the letterhead, the request, the legal reference and outcome, the answer, the
    documents attached, the remedy and the signature, in the order the HTML page shows them."""
    # Imported here: every process that loads the services (the workers, the importer) would carry them.
    import matplotlib
    from fpdf import FPDF

    # matplotlib (a dependency already) ships DejaVu Sans: every character of Spanish and English text, embedded.
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", fonts / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", fonts / "DejaVuSans-Bold.ttf")
    pdf.set_margins(25, 20, 25)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(f"{content['title']} {content['code']}")
    pdf.set_author(content["municipality"])
    pdf.add_page()
    text = pdf.epw

    def line(value: str, *, size: float = 11, style: str = "", align: str = "L", after: float = 2) -> None:
        if value:
            pdf.set_font("DejaVu", style, size)
            pdf.multi_cell(text, size * 0.5, value, align=align, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(after)

    line(content["municipality"], size=15, style="B", align="C", after=0)
    line(content["seal"], size=9, align="C", after=0)
    line(content["department"], size=10, align="C", after=3)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + text, pdf.get_y())
    pdf.ln(5)
    line(content["place_date"], align="R", after=5)
    line(content["title"], size=12, style="B")
    line(content["request_line"], size=10)
    line(content["reference"], size=10, after=0)
    line(content["outcome_line"], size=10, style="B", after=0)
    line(content["ground_line"], size=10, after=0)
    line(content["outcome_reference"], size=10, after=0)
    pdf.ln(5)
    line(content["salutation"], after=3)
    for paragraph in content["body"].splitlines():
        line(paragraph.strip(), after=2)
    if content.get("attachments"):  # letters sent before documents existed have no such key
        pdf.ln(2)
        line(content["attachments_title"], size=10, style="B", after=1)
        for attached in content["attachments"]:
            line(f"• {attached['name']} ({attached['size']})", size=10, after=0)
    pdf.ln(3)
    line(content["remedy"], size=9, after=8)
    line(content["closing"], after=15)
    line(content["signer"], style="B", align="C", after=0)
    line(content["signer_title"], align="C", after=0)
    line(content["municipality"], size=10, align="C", after=0)
    return bytes(pdf.output())
