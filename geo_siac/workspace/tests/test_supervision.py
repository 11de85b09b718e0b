"""The supervision page: filters, map and list, bulk changes answered per report, rerouting, merging duplicates."""

from datetime import timedelta
from unittest import mock

from django.urls import reverse
from django.utils import timezone

from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import EAST_POINT, GAP_POINT, WEST_POINT


def listed(response) -> list[str]:
    return [r.tracking_code for r in response.context["reports"]]


def test_bulk_change_says_per_report_what_happened_and_one_already_there_is_unchanged(client, make_report, crews):
    reports = [make_report(point=WEST_POINT) for _ in range(5)]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[2], status="acknowledged")
    client.force_login(crews["supervisor"])

    response = client.post(
        reverse("crew:supervision"),
        {"reports": [r.tracking_code for r in reports], "status": "acknowledged"},
        follow=True,
    )

    results = [str(m) for m in response.context["messages"]]
    assert sorted(results) == sorted(
        [f"{r.tracking_code}: pasó a «Acogida»." for i, r in enumerate(reports) if i != 2]
        + [f"{reports[2].tracking_code}: sin cambios. Ya está en «Acogida»."]
    )
    assert set(Report.objects.values_list("status", flat=True)) == {"acknowledged"}
    assert reports[2].events.filter(kind="status").count() == 1  # no second "Acogida" in its history
    assert f'class="bulk-unchanged info">{reports[2].tracking_code}: sin cambios' in response.content.decode()


def test_a_refused_report_does_not_stop_the_others_and_the_selection_is_kept(client, make_report, crews):
    done, other = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=done, status="resolved")
    client.force_login(crews["supervisor"])

    response = client.post(
        reverse("crew:supervision"),
        {"reports": [other.tracking_code, done.tracking_code], "status": "acknowledged", "crew": crews["B"].pk},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert f"{other.tracking_code}: derivada a Cuadrilla Oriente, pasó a «Acogida»." in page
    # Closed, it goes to no crew (report_reroute refuses it as the report page hides its form): refused whole.
    assert f"{done.tracking_code}: error: La solicitud {done.tracking_code} está cerrada." in page
    assert response.context["selected"] == {other.tracking_code, done.tracking_code}
    assert f'value="{other.tracking_code}" checked' in page
    assert (Report.objects.get(pk=other.pk).status, Report.objects.get(pk=other.pk).crew) == (
        "acknowledged",
        crews["B"],
    )
    # The refused report's reroute was undone with its status change: a report changes wholly or not at all.
    assert (Report.objects.get(pk=done.pk).status, Report.objects.get(pk=done.pk).crew) == ("resolved", crews["A"])


def test_rerouting_to_the_crew_it_already_has_says_so(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = client.post(reverse("crew:reroute", args=[report.tracking_code]), {"crew": crews["A"].pk})
    assert response.status_code == 400
    assert "Ya está asignada a Cuadrilla Poniente." in response.content.decode()
    assert not report.events.filter(kind="rerouted").exists()

    bulk = client.post(
        reverse("crew:supervision"), {"reports": [report.tracking_code], "crew": crews["A"].pk}, follow=True
    )
    assert [str(m) for m in bulk.context["messages"]] == [
        f"{report.tracking_code}: sin cambios. Ya está asignada a Cuadrilla Poniente."
    ]


def test_list_and_map_follow_the_filters(client, make_report, crews):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=40)):
        late_west = make_report(point=WEST_POINT)
    west = make_report(point=WEST_POINT, category="bache")
    east = make_report(point=EAST_POINT)
    stray = make_report(point=GAP_POINT)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=east, status="in_progress")
    client.force_login(crews["supervisor"])
    url = reverse("crew:supervision")

    assert set(listed(client.get(url))) == {
        late_west.tracking_code,
        west.tracking_code,
        east.tracking_code,
        stray.tracking_code,
    }
    assert listed(client.get(url, {"categoria": "bache"})) == [west.tracking_code]
    assert listed(client.get(url, {"zona": crews["east"].pk})) == [east.tracking_code]
    assert listed(client.get(url, {"cuadrilla": crews["A"].pk})) == [late_west.tracking_code, west.tracking_code]
    assert listed(client.get(url, {"cuadrilla": "triage"})) == [stray.tracking_code]
    assert listed(client.get(url, {"estado": "in_progress"})) == [east.tracking_code]
    overdue = client.get(url, {"vencidas": "on", "cuadrilla": crews["A"].pk})
    assert listed(overdue) == [late_west.tracking_code]
    assert [r["code"] for r in overdue.context["map_data"]["reports"]] == [late_west.tracking_code]
    assert "vendor/leaflet/1.9.3/leaflet.js" in overdue.content.decode()


def test_an_unknown_filter_value_is_named_and_the_list_is_unfiltered(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = client.get(reverse("crew:supervision"), {"estado": "resolved", "cuadrilla": "99999"})
    assert response.status_code == 400
    assert set(response.context["filters"].errors) == {"estado", "cuadrilla"}
    assert "Escoja una opción válida" in response.content.decode()
    assert listed(response) == [report.tracking_code]


def test_pages_of_the_list_keep_the_filters(client, make_report, crews, settings):
    settings.GEO_SIAC_CREW_QUEUE_PAGE_SIZE = 2
    reports = [make_report(point=WEST_POINT) for _ in range(3)]
    make_report(point=EAST_POINT)
    client.force_login(crews["supervisor"])
    first = client.get(reverse("crew:supervision"), {"cuadrilla": crews["A"].pk})
    assert f'href="?cuadrilla={crews["A"].pk}&amp;pagina=2"' in first.content.decode()
    second = client.get(reverse("crew:supervision"), {"cuadrilla": crews["A"].pk, "pagina": 2})
    assert listed(second) == [reports[2].tracking_code]


def test_supervisor_merges_a_duplicate_from_the_supervision_page(client, make_report, crews):
    original, duplicate = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = client.post(
        reverse("crew:merge"),
        {"duplicate": duplicate.tracking_code.lower(), "original": original.tracking_code},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"{duplicate.tracking_code} cerrada como duplicada de {original.tracking_code}; sus seguidores siguen "
        f"ahora {original.tracking_code}."
    ]
    assert Report.objects.get(pk=duplicate.pk).duplicate_of == original


def test_a_merge_with_an_unknown_code_or_a_refusal_is_shown_on_the_form(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    unknown = client.post(reverse("crew:merge"), {"duplicate": "PA-0000-0000", "original": report.tracking_code})
    assert unknown.status_code == 400
    assert "No hay una solicitud con el código «PA-0000-0000»." in unknown.content.decode()
    itself = client.post(reverse("crew:merge"), {"duplicate": report.tracking_code, "original": report.tracking_code})
    assert itself.status_code == 400
    assert "Una solicitud no puede ser duplicada de sí misma." in itself.content.decode()
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_only_supervisors_merge(client, make_report, crews):
    original, duplicate = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:merge"), {"duplicate": duplicate.tracking_code, "original": original.tracking_code}
    )
    assert response.status_code == 403
    assert Report.objects.get(pk=duplicate.pk).status == "submitted"


def test_supervisor_extends_an_information_request_once_from_its_page(client, crews):
    from geo_siac.catalogue.kinds import RequestKind
    from geo_siac.reports.services import report_create

    report = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        channel="web",
        commune=crews["west"].commune,
        description="Actas.",
        reporter_name="Rosa",
        reporter_email="rosa@example.cl",
    )
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert 'id="legal-extend-form"' in page and 'id="correction-form"' in page
    assert "Prorrogar el plazo (una sola vez)" not in page  # the supervisor's own extension is not for this kind
    url = reverse("crew:kind_step", args=[report.tracking_code, "legal_extend"])
    assert client.post(url, {"reason": "Volumen de documentos"}).status_code == 302
    response = client.post(url, {"reason": "Otra vez"})
    assert response.status_code == 400 and "la ley permite una sola prórroga" in response.content.decode()
    assert client.post(reverse("crew:kind_step", args=[report.tracking_code, "nada"]), {}).status_code == 404


def test_the_zone_filter_names_each_zones_comuna(client, crews):
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:supervision")).content.decode()
    zones = page.split('name="zona"')[1].split("</select>")[0]
    assert "Puente Alto · Poniente</option>" in zones and "Puente Alto · Oriente</option>" in zones
