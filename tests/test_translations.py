"""The English catalogue is complete and compiled, and pages render in English through the project's language
switch: the Accept-Language header, the django_language cookie, and the switcher's POST to /i18n/setlang/
(LocaleMiddleware; there are no language prefixes in URLs). See docs/i18n.md."""

import ast
import gettext
import re
from pathlib import Path

from django.urls import reverse

from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE, WEST_POINT, staff_account
from geo_siac.transparency.services import indicator_snapshots_refresh

LOCALE = Path(__file__).resolve().parent.parent / "geo_siac" / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|%[sdfr]")


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr forms and flags. Obsolete (#~) entries are
    skipped.

    Enough of the format for this check; a dependency such as polib would buy nothing more here."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = {"flags": set(), "msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ")):
                field, _, value = line.partition(" ")
                entry[field] = ast.literal_eval(value)
            elif line.startswith("msgstr"):
                key, _, value = line.partition(" ")
                field = int(key[7:-1]) if key.startswith("msgstr[") else 0
                entry["msgstr"][field] = ast.literal_eval(value)
            elif line.startswith('"'):
                if isinstance(field, int):
                    entry["msgstr"][field] += ast.literal_eval(line)
                else:
                    entry[field] += ast.literal_eval(line)
        if entry["msgid"] is not None:
            entries.append(entry)
    return entries


ENTRIES = [e for e in po_entries(LOCALE / "django.po") if e["msgid"]]  # the header has an empty msgid


def test_the_english_catalogue_holds_the_strings_of_every_app():
    referenced = {e["msgid"] for e in ENTRIES}
    assert len(ENTRIES) > 500
    assert {
        "Visible para el vecino",
        "api_key: falta o no es válida.",
        "Puntos calientes y fríos (Gi*, FDR)",
        "Enviar solicitud",
        "Datos abiertos",
    } <= referenced


def test_every_msgid_in_the_english_catalogue_has_a_translation_that_is_not_fuzzy():
    untranslated = [e["msgid"] for e in ENTRIES if not e["msgstr"] or any(not s for s in e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in ENTRIES if "fuzzy" in e["flags"]]
    assert untranslated == [], "run scripts/messages.sh and translate these (docs/i18n.md)"
    assert fuzzy == [], "check these translations and remove their fuzzy flag (docs/i18n.md)"


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for entry in ENTRIES:
        for form, text in entry["msgstr"].items():
            source = entry["msgid_plural"] if form and entry["msgid_plural"] else entry["msgid"]
            if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
                wrong.append((entry["msgid"], text))
    assert wrong == []


def test_one_concept_has_one_english_word():
    """docs/i18n.md's words: días hábiles are "business days" (never "working days"), a consulta is a "question",
    the kind's label as on the suggestion box and the form's choice."""
    working = [e["msgid"] for e in ENTRIES for s in e["msgstr"].values() if re.search(r"working day", s, re.I)]
    queries = [
        e["msgid"]
        for e in ENTRIES
        # "los valores de la consulta" are a URL's query string, not the kind
        if re.search(r"\bconsultas?\b", e["msgid"], re.I) and "valores de la consulta" not in e["msgid"]
        for s in e["msgstr"].values()
        if re.search(r"\bquer(y|ies)\b", s, re.I)
    ]
    assert working == [] and queries == []
    assert next(e["msgstr"][0] for e in ENTRIES if e["msgid"] == "Consulta") == "Question"


def test_the_committed_mo_is_compiled_from_the_po():
    with open(LOCALE / "django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    stale = []
    for entry in ENTRIES:
        if entry["msgctxt"] is not None:  # pgettext("lista", "y"): the .mo keys it by context and msgid
            if catalog.pgettext(entry["msgctxt"], entry["msgid"]) != entry["msgstr"][0]:
                stale.append(entry["msgid"])
        elif entry["msgid_plural"] is None:
            if catalog.gettext(entry["msgid"]) != entry["msgstr"][0]:
                stale.append(entry["msgid"])
        elif [catalog.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)] != [
            entry["msgstr"][0],
            entry["msgstr"][1],
        ]:
            stale.append(entry["msgid"])
    assert stale == [], "run scripts/messages.sh (it compiles the .mo) and commit django.mo"


# Pages in English ------------------------------------------------------------------------------------------------


def english(client):
    """Choose English as a citizen does: the language switcher in the header posts to /i18n/setlang/."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and client.cookies["django_language"].value == "en"
    return client


def test_crew_pages_render_in_english(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    english(client)
    home = client.get(reverse("crew:home")).content.decode()
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert "Map of zones and open requests" in home and "1 open request, by deadline" in home
    for text in (
        "Back to the list",
        "Change status",
        "Reply to the resident: what was done",
        "Internal note (municipal staff only)",
        "Directions",
        "Hand back to triage",
        "Save change",
    ):
        assert text in page, text
    assert "Cambiar estado" not in page and "Respuesta al vecino" not in page


def test_supervision_page_renders_in_english(client, make_report, crews):
    make_report(point=PUENTE_ALTO_CENTRE)
    client.force_login(crews["supervisor"])
    english(client)
    page = client.get(reverse("crew:supervision")).content.decode()
    for text in ("Workload", "Daily capacity", "Open requests", "Apply to the selected ones", "Assign to crew"):
        assert text in page, text


def test_citizen_report_page_renders_in_english_by_accept_language(client, communes):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="en">' in page and "Send request" in page and "Enviar solicitud" not in page


def test_transparency_page_renders_in_english_after_the_switch(client, make_report):
    make_report()
    indicator_snapshots_refresh()
    english(client)
    page = client.get("/transparencia/").content.decode()
    assert '<html lang="en">' in page and "Requests received" in page and "Solicitudes recibidas" not in page
    open_data = client.get("/transparencia/datos/").content.decode()
    assert "Creative Commons Attribution 4.0" in open_data and "deed.en" in open_data


def test_open311_errors_are_in_english_for_an_english_client(client, communes):
    response = client.get("/open311/v2/requests.json", {"bbox": "1,2"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()[0]["description"] == "bbox: four numbers were expected: west,south,east,north."
    response = client.post("/open311/v2/requests.json", {"api_key": "nope"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()[0]["description"] == "api_key: missing or not valid."
    spanish = client.get("/open311/v2/requests.json", {"bbox": "1,2"})
    assert spanish.json()[0]["description"] == "bbox: se esperaban cuatro números: oeste,sur,este,norte."


def test_heat_map_layers_are_in_english_for_an_english_planner(client, make_report):
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=PENALOLEN_CENTRE, category="bache")
    client.force_login(staff_account("planner", is_staff=True))
    english(client)
    html = client.get("/mapas/calor/mapa.html", {"res": 9}).content.decode()
    for layer in ("All categories", "Group: ", "Week of ", "Requests per H3 cell", '"Comunas"'):
        assert layer in html, layer
    assert "Todas las categor" not in html and "Semana del" not in html
