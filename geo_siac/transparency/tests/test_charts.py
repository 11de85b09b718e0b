"""Bar chart labels are shown whole, on lines that fit the chart, on a phone as on a desktop."""

import re

from django.template.loader import render_to_string

from geo_siac.transparency.charts import FONT_SIZE, LINE_EMS, NARROWEST_CHART_PX, bar_chart, indicator_chart, text_width

LONG = "Dirección de Medio Ambiente, Aseo y Ornato: retiro de escombros y residuos voluminosos en la vía pública"


def rendered(chart) -> str:
    return render_to_string("transparency/_bar_chart.html", {"chart": chart, "chart_id": "c", "title": "t"})


def test_a_long_label_is_shown_whole_on_lines_that_fit_the_chart():
    chart = bar_chart([(LONG, 0.5, "50 %"), ("Bacheo", 1.0, "100 %")])
    svg = rendered(chart)
    lines = re.findall(r'<tspan x="0" dy="\d+">([^<]*)</tspan>', svg)  # the labels' (the values' have a dx)
    assert " ".join(lines[:-1]) == LONG and lines[-1] == "Bacheo"
    assert "…" not in svg
    assert all(text_width(line) <= LINE_EMS for line in lines)
    # The text is drawn at FONT_SIZE pixels, unscaled (no viewBox), so a line of LINE_EMS em fits the narrowest chart.
    assert 'font-size="14"' in svg and "viewBox" not in svg and LINE_EMS * FONT_SIZE <= NARROWEST_CHART_PX


def test_lines_are_measured_by_their_letters_not_counted():
    """31 capitals are wider than a 320-pixel phone's chart (a W is 14 px at 14 px), 31 small letters are not."""
    capitals, small = "DIRECCIÓN DE ASEO Y ORNATO, SUR", "dirección de aseo y ornato, sur"
    assert len(bar_chart([(capitals, 1.0, "100 %")])["bars"][0].lines) == 2
    assert len(bar_chart([(small, 1.0, "100 %")])["bars"][0].lines) == 1


def test_a_text_in_words_without_a_bar_is_wrapped_as_a_label_is():
    chart = bar_chart([("Poniente", None, "aún ninguna cerrada ni con plazo vencido"), ("Oriente", 0.5, "50 %")])
    words, figure = chart["bars"]
    assert words.text_lines == ["aún ninguna cerrada ni con plazo", "vencido"]
    assert figure.y >= words.y + words.height and figure.text_lines == ["50 %"]
    assert ">aún ninguna cerrada ni con plazo</tspan><tspan " in rendered(chart)


def test_bars_and_labels_never_overlap():
    chart = bar_chart([(LONG, 0.5, "50 %"), ("Bacheo", 1.0, "100 %")])
    first, second = chart["bars"]
    assert second.y >= first.y + first.bar_y + chart["bar_height"]
    assert chart["height"] >= second.y + second.bar_y + chart["bar_height"]


def test_a_group_without_the_figure_is_said_in_words_without_a_bar_and_a_withheld_one_is_left_out():
    on_time = {"volume": 3, "deadline_met_share": 0.0}
    groups = [("Cuadro 1", {"volume": 0}), ("Cuadro 2", on_time), ("2026-10", {"volume": None})]
    chart = indicator_chart(groups, lambda r: (None, "sin solicitudes") if r["volume"] == 0 else (0.0, "0 %"))
    svg = rendered(chart)
    assert [bar.lines for bar in chart["bars"]] == [["Cuadro 1"], ["Cuadro 2"]]
    assert svg.count("<rect ") == 1 and ">sin solicitudes</tspan>" in svg and "2026-10" not in svg
