"""core.forms.service_errors: a service's refusal lands on the form it came from."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from mawa.core.errors import Conflict, Forbidden, MawaError, NotFound, ValidationFailed
from mawa.core.forms import BootstrapMixin, form_errors_add, service_errors


class ZoneForm(BootstrapMixin, forms.Form):
    name = forms.CharField()
    order = forms.IntegerField(required=False)


def _bound(**data) -> ZoneForm:
    form = ZoneForm({"name": "North", "order": "3", **data})
    assert form.is_valid()
    return form


def test_a_field_error_goes_on_its_field_and_the_message_on_top():
    form = _bound()
    with service_errors(form) as run:
        raise ValidationFailed("Check the highlighted fields.",
                               fields={"name": ["This camp already has a zone of that name."]})
    assert isinstance(run.error, ValidationFailed)
    assert run.status == 400
    assert form.errors["name"] == ["This camp already has a zone of that name."]
    assert form.non_field_errors() == ["Check the highlighted fields."]
    # the field is marked for the eye and for screen readers
    assert "is-invalid" in form.fields["name"].widget.attrs["class"]
    assert form.fields["name"].widget.attrs["aria-invalid"] == "true"
    assert "order" not in form.errors


def test_a_refusal_without_fields_is_a_non_field_error_with_its_status():
    form = _bound()
    with service_errors(form) as run:
        raise Conflict("Shelter T1 has 0 free places; 1 needed.", code="over_capacity")
    assert run.status == 409
    assert form.non_field_errors() == ["Shelter T1 has 0 free places; 1 needed."]
    assert set(form.errors) == {"__all__"}


def test_an_error_on_a_field_the_form_does_not_have_is_shown_on_top():
    form = _bound()
    with service_errors(form):
        raise ValidationFailed("Check the highlighted fields.",
                               fields={"documents.0.number": ["Type the number."],
                                       "name": ["Too long."]})
    assert form.non_field_errors() == ["Check the highlighted fields.", "Type the number."]
    assert form.errors["name"] == ["Too long."]


def test_the_form_keeps_what_was_typed():
    form = _bound(name="شمال ٣")
    with service_errors(form):
        raise ValidationFailed("Check the highlighted fields.", fields={"name": ["Taken."]})
    assert form["name"].value() == "شمال ٣"
    assert form["order"].value() == "3"
    html = str(form["name"])
    assert 'value="شمال ٣"' in html and "is-invalid" in html


def test_the_message_is_shown_in_the_users_language():
    form = _bound()
    with service_errors(form):
        raise NotFound()  # its message is lazy: translated when shown
    with translation.override("ar"):
        assert form.non_field_errors() == ["غير موجود."]
    with translation.override("en"):
        assert form.non_field_errors() == ["Not found."]


def test_no_error_leaves_the_form_alone_and_other_exceptions_pass():
    form = _bound()
    with service_errors(form) as run:
        pass
    assert run.error is None and not form.errors
    with pytest.raises(KeyError), service_errors(form):
        raise KeyError("a bug is not a refusal")
    assert not form.errors


def test_passthrough_lets_chosen_errors_through():
    form = _bound()
    with pytest.raises(NotFound), service_errors(form, passthrough=(NotFound,)):
        raise NotFound()
    assert not form.errors
    with service_errors(form, passthrough=(NotFound,)) as run:
        raise Forbidden()
    assert run.status == 403


def test_field_names_are_renamed_and_the_message_may_go_on_a_field():
    class PersonLike(ZoneForm):
        service_fields = {"aliases.0": "name"}

    form = PersonLike({"name": "x", "order": ""})
    assert form.is_valid()
    form_errors_add(form, ValidationFailed("Check.", fields={"aliases.0": ["Too short."]}))
    assert form.errors["name"] == ["Too short."]
    code_form = _bound()
    form_errors_add(code_form, MawaError("That code is not right."), message_field="order",
                    fields={"x": "order"})
    assert code_form.errors["order"] == ["That code is not right."]
    assert not code_form.non_field_errors()


def test_the_same_message_is_not_shown_twice():
    form = _bound()
    form_errors_add(form, ValidationFailed("A head count is a whole number.",
                                           fields={"count_x": ["A head count is a whole number."]}))
    assert form.non_field_errors() == ["A head count is a whole number."]
