"""WTForms validators shared by the blueprints' forms."""

from __future__ import annotations

from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError

from vaulta.text import display_problem


class DisplaySafe:
    """Refuse control and bidirectional-control characters in text others will read
    (names, references, descriptions, reasons): the same rule as the services apply."""

    def __call__(self, form: Any, field: Field) -> None:
        problem = display_problem(field.data if isinstance(field.data, str) else None)
        if problem:
            raise ValidationError(problem)
