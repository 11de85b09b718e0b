"""Forms read from a page's query string (the planners' GET forms)."""

from django import forms


class QueryForm(forms.Form):
    """A field left out of the query or left blank takes its default (its `initial`): a link, a bookmark or an
    edited URL may carry only some fields, and only a wrong value is an error. A list of checkboxes has no default:
    none ticked is an answer, and the query cannot tell it from one left out."""

    def full_clean(self):
        if self.is_bound:
            self.data = self._with_defaults(self.data)
        super().full_clean()

    def _with_defaults(self, data):
        filled = data.copy()
        for name, field in self.fields.items():
            initial = self.get_initial_for_field(field, name)
            if initial is None or getattr(field.widget, "allow_multiple_selected", False):
                continue
            if str(data.get(name, "")).strip() == "":
                filled[name] = initial
        return filled
