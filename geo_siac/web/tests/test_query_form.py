from django import forms
from django.http import QueryDict

from geo_siac.web.forms import QueryForm


class Analysis(QueryForm):
    k = forms.IntegerField(initial=5)
    label = forms.CharField(initial="todas")
    kinds = forms.MultipleChoiceField(
        choices=[("oirs", "OIRS")], initial=["oirs"], required=False, widget=forms.CheckboxSelectMultiple
    )


def test_a_field_left_out_or_blank_takes_its_default_but_a_list_of_checkboxes_does_not():
    form = Analysis(QueryDict("label=+"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"k": 5, "label": "todas", "kinds": []}  # no box ticked is an answer
    assert form.data.urlencode() == "label=todas&k=5"  # what the page's export links carry


def test_a_wrong_value_stays_an_error_of_its_field():
    form = Analysis(QueryDict("k=mucho"))
    assert not form.is_valid() and list(form.errors) == ["k"]


def test_an_unbound_form_stays_unbound():
    assert not Analysis().is_bound and Analysis().errors == {}
