"""The shared form plumbing (vaulta/forms.py): a domain error on its field, GET filter forms."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import DateField, StringField

from vaulta.forms import FilterForm, show_error
from vaulta.services.errors import Conflict, InvalidInput


class _Form(FlaskForm):
    class Meta:
        csrf = False

    code = StringField("Code")
    credential = StringField("Credential")


class _Filters(FilterForm):
    actor = StringField("Actor")
    date_from = DateField("From")


def test_an_error_lands_on_the_field_it_names(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/", method="POST"):
        form = _Form()
        assert show_error(form, InvalidInput("Wrong code.", field="code")) is True
        assert show_error(form, InvalidInput("Still wrong.", field="code")) is True
        assert form.code.errors == ["Wrong code.", "Still wrong."]
        assert form.form_errors == []


def test_an_error_without_a_field_on_the_form_goes_above_it(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/", method="POST"):
        form = _Form()
        assert show_error(form, Conflict("Already decided.")) is False
        assert show_error(form, InvalidInput("No such field.", field="nickname")) is False
        assert show_error(form, InvalidInput("Not a field.", field="validate")) is False
        assert form.form_errors == ["Already decided.", "No such field.", "Not a field."]
        assert form.code.errors == ()
        assert form.credential.errors == ()


def test_required_raises_what_no_field_can_show(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/", method="POST"):
        form = _Form()
        for err in (Conflict("Already decided."), InvalidInput("Odd.", field="nickname")):
            with pytest.raises(type(err)) as raised:
                show_error(form, err, required=True)
            assert raised.value is err
        assert form.form_errors == []


def test_field_and_replace(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/", method="POST"):
        form = _Form()
        show_error(form, InvalidInput("Wrong.", field="code"), field="credential", required=True)
        assert form.credential.errors == ["Wrong."]
        show_error(
            form, InvalidInput("Wrong again.", field="code"), field="credential", replace=True
        )
        assert form.credential.errors == ["Wrong again."]
        with pytest.raises(Conflict):  # a field to show it on does not make it a field error
            show_error(form, Conflict("Off."), field="credential", required=True)


def test_filter_form_reads_the_query_string_and_keeps_what_was_typed(sqlite_app: Flask) -> None:
    url = "/?actor=+ann%40example.test+&date_from=2025-13-01&before=41&other=x"
    with sqlite_app.test_request_context(url):
        form = _Filters.from_query()
        assert not form.validate()  # the month 13: an error on date_from, no CSRF needed
        assert list(form.errors) == ["date_from"]
        assert form.query_args() == {"actor": "ann@example.test", "date_from": "2025-13-01"}
        assert form.before_id == 41
        context = form.page_context(["a row"])
        assert context == {
            "form": form,
            "results": ["a row"],
            "args": {"actor": "ann@example.test", "date_from": "2025-13-01"},
            "before": 41,
        }
    with sqlite_app.test_request_context("/?before=soon"):
        form = _Filters.from_query()
        assert form.validate()
        assert form.query_args() == {}
        assert form.before_id is None
