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


class Options(QueryForm):
    k = forms.IntegerField(initial=5)
    exact = forms.BooleanField(initial=True, required=False)


def test_a_checkbox_left_out_is_unticked_not_its_default():
    form = Options(QueryDict("k=3"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"k": 3, "exact": False}


def test_a_prefixed_form_fills_its_own_keys():
    form = Options(QueryDict("a-k="), prefix="a")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["k"] == 5 and form.data.get("a-k") == 5 and "k" not in form.data


class Resolution(QueryForm):
    res = forms.TypedChoiceField(choices=[(7, 7), (9, 9)], coerce=int, initial=9)


def test_a_select_with_a_wrong_value_shows_its_default_under_its_error():
    form = Resolution(QueryDict("res=6"))
    assert not form.is_valid() and list(form.errors) == ["res"]
    assert '<option value="9" selected>' in str(form["res"]) and "selected" not in str(form["res"]).split("9")[0]
