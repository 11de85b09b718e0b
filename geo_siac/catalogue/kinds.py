"""The one place that defines the kinds of citizen request and their legal rules (docs/request-kinds.md).

It sits in the catalogue, the ground floor, because a category (a topic) belongs to one kind and the catalogue
cannot import reports; reports.deadlines holds the Ley 20.285 clock's day counts, reports' services apply them."""

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    SERVICE_REQUEST = "service_request", _("Solicitud de servicio")
    COMPLAINT = "complaint", _("Reclamo")
    QUERY = "query", _("Consulta")
    SUGGESTION = "suggestion", _("Sugerencia")
    COMPLIMENT = "compliment", _("Felicitación")
    INFORMATION = "information", _("Solicitud de acceso a información pública")


# The kinds' values for a membership check: Django's Choices.values builds its list on every read.
KIND_VALUES = frozenset(RequestKind.values)


class Action(models.TextChoices):
    """What may be done to a request of a kind, beyond receiving, routing and answering it."""

    CREW_WORK = "crew_work", _("Trabajo de una cuadrilla en terreno")
    DUPLICATE_MERGE = "duplicate_merge", _("Fusionar duplicadas")
    CITIZEN_REOPEN = "citizen_reopen", _("Reapertura por el vecino")
    DEADLINE_EXTEND = "deadline_extend", _("Prórroga por supervisión")
    LEGAL_EXTEND = "legal_extend", _("Prórroga legal (Ley 20.285)")
    CORRECTION = "correction", _("Subsanación (Ley 20.285)")
    REFERRAL = "referral", _("Derivación a otro organismo")
    # The formal answer, a letter (reports.letters); for a Ley 20.285 request, with its legal outcome.
    LEGAL_ANSWER = "legal_answer", _("Respuesta formal con carta")


class LegalOutcome(models.TextChoices):
    """How a Ley 20.285 request was answered, as the Consejo para la Transparencia's statistics count it."""

    DELIVERED = "delivered", _("Entregada")
    PARTLY_DELIVERED = "partly_delivered", _("Entregada parcialmente")
    DENIED = "denied", _("Denegada")
    NOT_HELD = "not_held", _("Información inexistente o no obra en poder del municipio")


class DenialGround(models.TextChoices):
    """The legal grounds for denying (wholly or partly) access to information: Ley 20.285 art. 21 and art. 20."""

    FUNCTIONS = "art21_1", _("Art. 21 N°1: afecta el debido cumplimiento de las funciones del municipio")
    RIGHTS = "art21_2", _("Art. 21 N°2: afecta los derechos de las personas")
    NATIONAL_SECURITY = "art21_3", _("Art. 21 N°3: afecta la seguridad de la Nación")
    NATIONAL_INTEREST = "art21_4", _("Art. 21 N°4: afecta el interés nacional")
    SECRET_BY_LAW = "art21_5", _("Art. 21 N°5: declarada secreta o reservada por una ley de quórum calificado")
    THIRD_PARTY = "art20", _("Art. 20: oposición de un tercero afectado")


# A denial names its ground; a partial delivery names the ground of what was withheld.
NEEDS_GROUND = frozenset({LegalOutcome.DENIED, LegalOutcome.PARTLY_DELIVERED})

# What the answer letter cites for each outcome, after the kind's letter_reference.
OUTCOME_REFERENCE = {
    LegalOutcome.DELIVERED: _("Se entrega la información en la forma y por el medio solicitados (art. 17)."),
    LegalOutcome.PARTLY_DELIVERED: _(
        "Se entrega la información, salvo la parte denegada por la causal que se indica (arts. 16 y 21)."
    ),
    LegalOutcome.DENIED: _("Se deniega el acceso, por escrito y fundadamente, por la causal que se indica (art. 16)."),
    LegalOutcome.NOT_HELD: _(
        "La información solicitada no obra en poder del municipio (arts. 5 y 10: es pública la información que "
        "obra en poder de los órganos de la Administración)."
    ),
}


@dataclass(frozen=True)
class KindRule:
    # Required: a service request's point. Without one, the request is its text, so the text is required.
    place_required: bool
    # The longest the law lets the answer take, in business days (Ley 19.880 art. 25: days are business days);
    # None: no legal term, the topic's own response days apply.
    legal_days: int | None
    legal_reference: str
    actions: frozenset[str]
    # Ley 20.285 art. 12: the request names the requester and where to send the answer.
    identity_required: bool = False
    # A kind answered by a formal letter: the law the letter cites, and the remedy it must tell the citizen of
    # (Ley 19.880 art. 41: a decision names the remedies against it, the body and the term).
    letter_reference: str = ""
    letter_remedy: str = ""
    # Takes PDF documents besides photos (a power of attorney, a document the requester refers to): reports.photos.
    documents: bool = False
    # The closings (reports.states.Status values: the catalogue cannot import reports) a person may not choose by
    # hand for this kind, each with the legal step that reaches it; reports.states.transitions_by_hand reads it.
    closings_by_law: dict[str, str] = field(default_factory=dict)


# Ley 19.880 art. 24: a final decision within 20 (business) days; a topic may promise less, never more.
LEY_19880_DAYS = 20
# Ley 20.285 art. 14: the answer within 20 business days (the extension and subsanación: reports.deadlines).
LEY_20285_DAYS = 20

_ANSWERED = frozenset({Action.DEADLINE_EXTEND, Action.REFERRAL})
RULES: dict[str, KindRule] = {
    RequestKind.SERVICE_REQUEST: KindRule(
        True,
        None,
        "",
        frozenset(
            {Action.CREW_WORK, Action.DUPLICATE_MERGE, Action.CITIZEN_REOPEN, Action.DEADLINE_EXTEND, Action.REFERRAL}
        ),
    ),
    RequestKind.COMPLAINT: KindRule(
        False,
        LEY_19880_DAYS,
        "Ley 19.880, art. 24",
        _ANSWERED | {Action.CITIZEN_REOPEN, Action.LEGAL_ANSWER},
        letter_reference=_(
            "Ley 19.880, que establece las bases de los procedimientos administrativos que rigen los actos de los "
            "órganos de la Administración del Estado, arts. 17, 24 y 41."
        ),
        letter_remedy=_(
            "Contra esta respuesta puede interponer un recurso de reposición ante esta municipalidad, dentro de "
            "5 días hábiles desde su notificación (Ley 19.880, art. 59)."
        ),
    ),
    RequestKind.QUERY: KindRule(False, LEY_19880_DAYS, "Ley 19.880, art. 24", _ANSWERED),
    RequestKind.SUGGESTION: KindRule(False, None, "", _ANSWERED),
    RequestKind.COMPLIMENT: KindRule(False, None, "", frozenset()),
    RequestKind.INFORMATION: KindRule(
        False,
        LEY_20285_DAYS,
        "Ley 20.285, art. 14",
        frozenset({Action.LEGAL_EXTEND, Action.CORRECTION, Action.REFERRAL, Action.LEGAL_ANSWER}),
        identity_required=True,
        documents=True,
        closings_by_law={
            "closed_not_municipal": _(
                "Use «Derivar a otro organismo»: una solicitud de acceso a información que no corresponde al "
                "municipio se deriva al organismo competente, nombrándolo (Ley 20.285, art. 13)."
            ),
            "closed_withdrawn": _(
                "La solicitud se declara desistida sola si no se subsana a tiempo (Ley 20.285, art. 12): pida una "
                "subsanación."
            ),
            "closed_unfixable": _(
                "Responda con carta: si la información no existe o se deniega, la respuesta formal lo dice con su "
                "resultado (Ley 20.285, art. 16)."
            ),
        },
        letter_reference=_("Ley 20.285, sobre acceso a la información pública, arts. 14 y 16."),
        letter_remedy=_(
            "Si la información no le fue entregada, o no lo fue en la forma solicitada, puede reclamar ante el "
            "Consejo para la Transparencia dentro de 15 días hábiles (amparo, Ley 20.285, art. 24)."
        ),
    ),
}

# The kinds a citizen files without a place, in the order the web chooser offers them.
PLACELESS_KINDS = tuple(kind for kind in RequestKind if not RULES[kind].place_required)


def rule(kind: str) -> KindRule:
    return RULES[kind]


def allows(kind: str, action: str) -> bool:
    return action in RULES[kind].actions


def takes_documents(kind: str) -> bool:
    """A request of `kind` may carry PDF documents, at filing and when its requester adds information."""
    return RULES[kind].documents


def offers_crew_work(kind: str) -> bool:
    """The staff page of a request of `kind` offers a crew's work in the field: crew photos with a status change and
    "Registrar dónde trabajé"."""
    return allows(kind, Action.CREW_WORK)


def closing_by_law(kind: str, status: str) -> str:
    """The legal step that alone closes a request of `kind` as `status`, said to the person who tried it by hand, or
    "" when a person may choose that closing."""
    return str(RULES[kind].closings_by_law.get(status, ""))


def answers_by_letter(kind: str) -> bool:
    """A request of `kind` is answered only by a formal letter (reports.services.report_answer), never by a bare
    change to "resuelta"."""
    return bool(RULES[kind].letter_reference)


def takes_legal_outcome(kind: str) -> bool:
    """Its answer records a Ley 20.285 outcome (delivered, partly delivered, denied with its ground, not held)."""
    return kind == RequestKind.INFORMATION


def response_days(kind: str, topic_days: int) -> int:
    """Business days to answer a request of `kind` on a topic that promises `topic_days`: the topic's, capped by
    the legal term; a Ley 20.285 request always gets its legal 20, the start of the clock its extension and
    subsanación are counted from."""
    legal = RULES[kind].legal_days
    if kind == RequestKind.INFORMATION:
        return legal
    return topic_days if legal is None else min(topic_days, legal)
