"""The execution delay used by test_worker_killed.py works under testing only."""

from __future__ import annotations

import pytest

from vaulta import create_app
from vaulta.services.payments import payment_execution

SETTING = {payment_execution.TEST_EXECUTION_DELAY: 3}


@pytest.mark.parametrize(("config", "sleeps"), [("testing", [3.0]), ("development", [])])
def test_the_delay_is_honoured_only_by_the_testing_config(
    monkeypatch: pytest.MonkeyPatch, config: str, sleeps: list[float]
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(payment_execution.time, "sleep", slept.append)
    app = create_app(config, {"SQLALCHEMY_DATABASE_URI": "sqlite://", **SETTING})
    with app.app_context():
        payment_execution._test_only_delay()
    assert slept == sleeps


def test_the_environment_variable_alone_does_nothing_outside_testing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULTA_TEST_EXECUTION_DELAY_SECONDS", "3")
    slept: list[float] = []
    monkeypatch.setattr(payment_execution.time, "sleep", slept.append)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        payment_execution._test_only_delay()
    assert slept == []
