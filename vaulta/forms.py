"""Form plumbing every feature shares: GET filter forms, and a domain error on its field."""

from __future__ import annotations

from typing import Any, Self

from flask import request
from flask_wtf import FlaskForm

from vaulta.services.errors import DomainError


class FilterForm(FlaskForm):
    """Filters sent as a GET query string (no CSRF: it changes nothing), paged by a
    keyset cursor (``before``) that links keep with the filters."""

    class Meta:
        csrf = False

    @classmethod
    def from_query(cls) -> Self:
        """The form bound to this request's query string."""
        return cls(formdata=request.args)

    @property
    def before_id(self) -> int | None:
        """The keyset cursor of the requested page: results older than this id (``before``)."""
        return request.args.get("before", type=int)

    def page_context(self, results: object) -> dict[str, Any]:
        """What a filter page renders: the form, its results and, for the pager's links, the
        filters as typed (``args``) and the current cursor (``before``)."""
        return {
            "form": self,
            "results": results,
            "args": self.query_args(),
            "before": self.before_id,
        }

    def query_args(self) -> dict[str, str]:
        """The filters as they were typed, for links that keep them (next page, CSV)."""
        args = {}
        for name, field in self._fields.items():
            value = str((field.raw_data or [""])[0]).strip()
            if value:
                args[name] = value
        return args


def show_error(
    form: Any,
    err: DomainError,
    *,
    field: str | None = None,
    required: bool = False,
    replace: bool = False,
) -> bool:
    """Put a domain error's message on the form field it names and say whether one took it.

    ``field`` names the form's field when it differs from the error's (the form asks for
    "credential" where the service checks a code). Without a field to take it, the message
    goes above the form (``form_errors``), or, when ``required``, the error is raised again
    for the one error handler; ``required`` also raises an error that names no field at
    all. ``replace`` drops the field's earlier messages (a service repeating a form check).
    """
    if required and not err.field:
        raise err
    name = field or err.field
    target = getattr(form, name, None) if name else None
    if target is None or not hasattr(target, "errors"):
        if required:
            raise err
        form.form_errors.append(err.message)
        return False
    target.errors = [err.message] if replace else [*target.errors, err.message]
    return True
