"""Bar chart labels are shown whole, on lines that fit the chart, on a phone as on a desktop."""

import re

from django.template.loader import render_to_string

from geo_siac.transparency.charts import FONT_SIZE, LINE_CHARS, NARROWEST_CHART_PX, bar_chart

LONG = "Dirección de Medio Ambiente, Aseo y Ornato: retiro de escombros y residuos voluminosos en la vía pública"


def rendered(chart) -> str:
    return render_to_string("transparency/_bar_chart.html", {"chart": chart, "chart_id": "c", "title": "t"})


def test_a_long_label_is_shown_whole_on_lines_that_fit_the_chart():
    chart = bar_chart([(LONG, 0.5, "50 %"), ("Bacheo", 1.0, "100 %")])
    svg = rendered(chart)
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert " ".join(lines[:-1]) == LONG and lines[-1] == "Bacheo"
    assert "…" not in svg
    assert all(len(line) <= LINE_CHARS for line in lines)
    # The text is drawn at FONT_SIZE pixels, unscaled (no viewBox); a character of it is at most ~8 px wide.
    assert 'font-size="14"' in svg and "viewBox" not in svg and FONT_SIZE == 14
    assert LINE_CHARS * 8 <= NARROWEST_CHART_PX


def test_bars_and_labels_never_overlap():
    chart = bar_chart([(LONG, 0.5, "50 %"), ("Bacheo", 1.0, "100 %")])
    first, second = chart["bars"]
    assert second.y >= first.y + first.bar_y + chart["bar_height"]
    assert chart["height"] >= second.y + second.bar_y + chart["bar_height"]


def test_a_group_without_the_figure_is_said_in_words_without_a_bar_and_one_without_text_is_left_out():
    chart = bar_chart([("Cuadro 1", None, "sin solicitudes"), ("Cuadro 2", 0.0, "0 %"), ("2026-10", None, "")])
    svg = rendered(chart)
    assert [bar.lines for bar in chart["bars"]] == [["Cuadro 1"], ["Cuadro 2"]]
    assert svg.count("<rect ") == 1 and ">sin solicitudes</text>" in svg and "2026-10" not in svg
