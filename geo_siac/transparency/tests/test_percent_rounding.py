"""One rounding for every share the transparency pages print: the charts and the report round half up
(executive.whole_percent), so the tables beside them must too."""

from django.template.loader import render_to_string


def test_a_charter_cell_rounds_an_eighth_as_the_charts_do():
    assert render_to_string("transparency/_met.html", {"result": {"deadline_met_share": 0.125}}).strip() == "13 %"


def test_an_indicator_row_rounds_its_shares_half_up():
    row = {"label": "Bache", "volume": 8, "deadline_met_share": 0.125, "unanswered_share": 0.375, "reopened_share": 0}
    html = render_to_string("transparency/_indicator_table.html", {"rows": [row], "caption": "x"})
    assert 'data-label="Dentro del plazo">13 %</td>' in html and 'data-label="Sin respuesta aún">38 %</td>' in html
