"""Fixtures of the customers pages' tests."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from vaulta.models import Customer


@pytest.fixture
def customer(app: Flask) -> Customer:
    """A customer without a login (the one the pages act on)."""
    return factories.make_customer("Dana Doe", email="dana@example.test")
