"""Forms read from a page's query string (the planners' GET forms)."""

from django import forms


class QueryForm(forms.Form):
    """A field left out of the query or left blank takes its default (its `initial`): a link, a bookmark or an
    edited URL may carry only some fields, and only a wrong value is an error. So a field where blank means
    something (none ticked, no filter) has no initial.

    A field whose widget reads "left out" as a value (a checkbox: unticked; a list of checkboxes: none ticked) keeps
    what the query says, since the query cannot tell it from one left out: its initial only ticks the boxes of an
    unbound form and does nothing on a bound one. A select whose value is wrong shows its default under its error."""

    def full_clean(self):
        if self.is_bound:
            self.data = self._with_defaults(self.data)
        super().full_clean()
        if self.is_bound:
            self._show_defaults_of_wrong_choices()

    def _show_defaults_of_wrong_choices(self):
        # A select cannot show a value none of its options has: it would show its first option as if chosen.
        for name in self._errors:
            field = self.fields.get(name)
            if not isinstance(field, forms.ChoiceField) or not isinstance(field.widget, forms.Select):
                continue
            initial = self.get_initial_for_field(field, name)
            if initial is not None and not field.widget.allow_multiple_selected:
                self.data[self.add_prefix(name)] = initial

    def _with_defaults(self, data):
        filled = data.copy()
        for name, field in self.fields.items():
            key = self.add_prefix(name)
            initial = self.get_initial_for_field(field, name)
            if initial is None or not field.widget.value_omitted_from_data({}, {}, key):
                continue
            if str(data.get(key, "")).strip() == "":
                filled[key] = initial
        return filled
