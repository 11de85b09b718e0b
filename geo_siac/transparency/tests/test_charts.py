"""Bar chart labels are shown whole, on lines that fit the chart, on a phone as on a desktop."""

import re

from django.template.loader import render_to_string

from geo_siac.transparency.charts import LINE_CHARS, bar_chart

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
    # 7.5 units is the widest a character of the 13-unit font gets.
    assert LINE_CHARS * 7.5 <= chart["width"]


def test_bars_and_labels_never_overlap():
    chart = bar_chart([(LONG, 0.5, "50 %"), ("Bacheo", 1.0, "100 %")])
    first, second = chart["bars"]
    assert second.y >= first.y + first.bar_y + chart["bar_height"]
    assert chart["height"] >= second.y + second.bar_y + chart["bar_height"]
