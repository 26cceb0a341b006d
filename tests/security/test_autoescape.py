"""Autoescape stays on in every template: no template turns it off or marks a value safe.

With htmx an unescaped value is worse than a defaced page: an injected ``hx-post … hx-trigger
="load"`` fires as soon as the page loads, with the page's CSRF header. The tables that
show what people typed are checked with hostile values in tests/web/customers/test_list.py
and tests/web/payments/test_approval_pages.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import nodes

from vaulta import PROJECT_ROOT

TEMPLATES = Path(PROJECT_ROOT) / "templates"
NAMES = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*") if p.is_file())


def _escaping_switches(tree: nodes.Template) -> Iterator[str]:
    """Every place in a parsed template that turns escaping off (or may)."""
    for node in tree.find_all((nodes.EvalContextModifier, nodes.ScopedEvalContextModifier)):
        for option in node.options:
            if option.key == "autoescape" and not (
                isinstance(option.value, nodes.Const) and option.value.value is True
            ):
                yield f"line {node.lineno}: autoescape {option.value}"
    for node in tree.find_all(nodes.Filter):
        if node.name == "safe":
            yield f"line {node.lineno}: |safe"


def test_every_template_is_autoescaped(sqlite_app: Flask) -> None:
    assert "base.html" in NAMES
    problems = []
    for name in NAMES:
        if not sqlite_app.select_jinja_autoescape(name):
            problems.append(f"{name}: not a file type Flask autoescapes")
        source = (TEMPLATES / name).read_text()
        tree = sqlite_app.jinja_env.parse(source, name)
        problems.extend(f"{name} {where}" for where in _escaping_switches(tree))
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "{% autoescape false %}{{ x }}{% endautoescape %}",
        "{%- autoescape off_switch -%}{{ x }}{%- endautoescape %}",
        "{% filter upper %}{% autoescape False %}{{ x }}{% endautoescape %}{% endfilter %}",
        "{{ x|safe }}",
    ],
)
def test_the_check_sees_escaping_turned_off(sqlite_app: Flask, source: str) -> None:
    assert list(_escaping_switches(sqlite_app.jinja_env.parse(source)))
