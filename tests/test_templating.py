"""Template helpers that trade generality for speed: each must give what the slow way gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, url_for
from hypothesis import given
from hypothesis import strategies as st

from vaulta.templating import _datetime, url_prefix


# From year 1000: before it, glibc's strftime drops the leading zeros of the year.
@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_datetime_filter_matches_strftime(value: datetime) -> None:
    assert _datetime(value) == value.strftime("%Y-%m-%d %H:%M") + " UTC"
    assert _datetime(value, "%d %b %Y") == value.strftime("%d %b %Y") + " UTC"


def test_datetime_filter_leaves_missing_dates_empty() -> None:
    assert _datetime(None) == ""


def test_url_prefix_rebuilds_url_for(sqlite_app: Flask) -> None:
    for script_root in ("", "/bank"):
        with sqlite_app.test_request_context("/", environ_base={"SCRIPT_NAME": script_root}):
            prefix = url_prefix("customers.detail", "customer_id")
            for customer_id in (1, 42, 918273):
                expected = url_for("customers.detail", customer_id=customer_id)
                assert f"{prefix}{customer_id}" == expected


def test_url_prefix_refuses_an_argument_inside_the_url(sqlite_app: Flask) -> None:
    with sqlite_app.test_request_context("/"), pytest.raises(ValueError, match="does not end"):
        url_prefix("approvals.approve", "payment_id")
