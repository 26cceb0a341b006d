"""Migration lint: every revision's PostgreSQL SQL, as ``flask db upgrade <prev>:<rev> --sql``
renders it, passes squawk — or carries a reviewed exception listed here and explained in
docs/deploy.md ("Migration lint"). A new revision gets no exception without a review."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from tests.migrations.test_flask_db import REVISIONS
from vaulta import create_app

SQUAWK_PG_VERSION = "13.0"  # the oldest PostgreSQL VAULTA supports (DROP DATABASE … FORCE)
NEW_TABLE_TYPES = {
    "prefer-text-field": "VARCHAR(n) lengths mirror the models' validation (reviewed)",
    "prefer-bigint-over-int": "SERIAL/INTEGER ids; money columns are BIGINT (reviewed)",
}
# revision -> {squawk rule: why it is accepted}. Keep in step with docs/deploy.md.
EXCEPTIONS: dict[str, dict[str, str]] = {
    "cd9d96d51db8": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "5b0e7f1a9c2d": {
        "prefer-text-field": NEW_TABLE_TYPES["prefer-text-field"],
        "adding-not-nullable-field": "SET NOT NULL after the backfill, in the same transaction",
    },
    "9e41c3d27a6b": {
        "prefer-bigint-over-int": "the foreign key column matches users.id (INTEGER)",
        "constraint-missing-not-valid": "the new column is all NULL: validation is a quick scan",
        "adding-foreign-key-constraint": "same: the column was added in this transaction",
    },
    "2c7d8e9f0a1b": {
        "prefer-bigint-over-int": "the foreign key column matches transactions.id (INTEGER)",
        "constraint-missing-not-valid": "the new column is all NULL: validation is a quick scan",
        "adding-foreign-key-constraint": "same: the column was added in this transaction",
        "disallowed-unique-constraint": "one payment, one transaction; payments is small",
    },
    "7f3a5b6c8d9e": {},
    "dc6b111edf33": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
        "require-concurrent-index-creation": "search indexes built while tables were small",
    },
    "9c4d9b42e4fe": {
        **NEW_TABLE_TYPES,
        "ban-drop-constraint": "ck_payments_status is re-created wider in the same transaction",
        "changing-column-type": "VARCHAR(16) -> VARCHAR(24): widening, no table rewrite",
        "constraint-missing-not-valid": "the widened CHECK and the new, all-NULL foreign key",
        "adding-foreign-key-constraint": "decided_by_id was added in this transaction",
    },
    "b80f6be41628": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "891a0a7132f6": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
        "constraint-missing-not-valid": "CHECKs on users' new, all-NULL columns: a quick scan",
    },
    "adecbb4f4996": {
        "require-concurrent-index-creation": "IF NOT EXISTS: large tables build it CONCURRENTLY "
        "beforehand (docs/deploy.md); the revision then does nothing",
    },
    "d7857d094736": {},
    "8e7ba3437353": {"prefer-text-field": NEW_TABLE_TYPES["prefer-text-field"]},
    "0f3ce6a1fb07": {"prefer-text-field": "VARCHAR(64): a SHA-256 in hex, always 64 characters"},
    "cb619078af99": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "9303079a1018": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "3f1c0a7e5b21": {
        **NEW_TABLE_TYPES,
        "ban-drop-constraint": "ck_users_role is re-created for the new kinds of login in the "
        "same transaction",
        "constraint-missing-not-valid": "users is small and already locked by the UPDATE of "
        "its admins: NOT VALID + VALIDATE in one transaction would buy nothing",
    },
    "29571d571590": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "52f0f3db5485": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "310f1db5fa66": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "6a1d2c9e7b40": {
        "ban-drop-constraint": "ck_export_jobs_kind and ck_notifications_kind_known are "
        "re-created wider in the same transaction",
        "ban-drop-not-null": "notifications.payment_id: a change-request reminder has none; "
        "ck_notifications_one_subject requires exactly one subject instead",
        "constraint-missing-not-valid": "export_jobs and notifications are small work queues "
        "(rows expire); the new column is all NULL",
        "prefer-bigint-over-int": "the foreign key column matches change_requests.id (INTEGER)",
        "adding-foreign-key-constraint": "change_request_id was added in this transaction",
        "disallowed-unique-constraint": "once per change request and kind; notifications is small",
        "require-concurrent-index-creation": "change_requests is new in the previous revision "
        "and still small when this one runs",
    },
    "69d49496f142": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "3645e4ab337c": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "c4e2a9d7b3f1": {
        "prefer-bigint-over-int": "the foreign key column matches change_requests.id (INTEGER)",
        "constraint-missing-not-valid": "the new column is all NULL: validation is a quick scan",
        "adding-foreign-key-constraint": "same: the column was added in this transaction",
    },
    "50701456f5aa": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
    },
    "5ac63abdd2e9": {},
    "bfab07c8bd3e": {
        "require-concurrent-index-creation": "postings is filled by the backfill in the same "
        "upgrade, writes drained: one plain build is fastest; IF NOT EXISTS lets an operator "
        "build them CONCURRENTLY beforehand (docs/deploy.md)",
    },
    "51a90ed518e2": {
        "ban-drop-constraint": "ck_accounts_customer_not_negative and ck_accounts_status give "
        "way to wider checks in the same transaction",
        "constraint-missing-not-valid": "accounts is locked by ADD COLUMN/DROP CONSTRAINT "
        "until the commit anyway; NOT VALID checks cannot be reflected (SQLAlchemy 2.0.58)",
        "require-concurrent-index-creation": "IF NOT EXISTS: large tables build it CONCURRENTLY "
        "beforehand (docs/deploy.md); the revision then does nothing",
    },
    "9d25696635aa": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
        "ban-drop-constraint": "ck_accounts_kind, ck_accounts_owner_matches_kind, "
        "ck_accounts_within_overdraft and ck_transactions_kind are re-created wider "
        "(fx_position, conversion) in the same transaction",
        "constraint-missing-not-valid": "each re-created CHECK is one scan of one column "
        "(about a second per million transactions) under the ALTER's lock",
        "require-concurrent-index-creation": "uq_accounts_fx_position_currency is partial "
        "(no row matches when it is built): one quick scan of accounts",
    },
    "e5b7c1d9a2f4": {
        "prefer-text-field": NEW_TABLE_TYPES["prefer-text-field"],
        "prefer-bigint-over-smallint": "a counter's shard is 0 to 15",
    },
    "8075314aee27": {
        "ban-drop-function": "vaulta_count_row() served only the four triggers that the same "
        "transaction re-creates on the new functions; nothing else calls it",
    },
    "1f93857819a3": {
        **NEW_TABLE_TYPES,
        "prefer-identity": "SERIAL is what SQLAlchemy emits for Integer primary keys",
        "constraint-missing-not-valid": "ck_accounts_held_not_negative: the column was added "
        "in this transaction with the constant 0, so validation is a quick scan",
    },
    "a256bf1e1799": {
        "require-concurrent-index-creation": "IF NOT EXISTS: a large fx_quotes builds it "
        "CONCURRENTLY beforehand (docs/deploy.md); the revision then does nothing",
    },
}


def squawk() -> str:
    found = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    if not Path(found).exists():
        pytest.fail("squawk is not installed: pip install -r requirements-dev.txt")
    return found


@pytest.fixture(scope="module")
def offline_app() -> Flask:
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:9/x"})


def render_sql(app: Flask, revision: str, capfd: pytest.CaptureFixture[str]) -> str:
    index = REVISIONS.index(revision)
    previous = REVISIONS[index - 1] if index else "base"
    capfd.readouterr()
    result = app.test_cli_runner().invoke(args=["db", "upgrade", f"{previous}:{revision}", "--sql"])
    out, _ = capfd.readouterr()
    assert result.exit_code == 0, result.output
    return result.stdout + out  # alembic writes to the process's or the runner's stdout


def test_every_revision_has_a_reviewed_entry() -> None:
    assert set(EXCEPTIONS) == set(REVISIONS)


@pytest.mark.parametrize("revision", REVISIONS)
def test_revision_passes_squawk(
    revision: str, offline_app: Flask, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    sql = render_sql(offline_app, revision, capfd)
    assert f"-> {revision}" in sql
    assert sql.startswith("SET lock_timeout"), "env.py sets the timeouts first"
    path = tmp_path / f"{revision}.sql"
    path.write_text(sql)
    run = subprocess.run(
        [squawk(), "--reporter", "json", f"--pg-version={SQUAWK_PG_VERSION}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(run.stdout or "[]")
    rules = {finding["rule_name"] for finding in findings}
    allowed = EXCEPTIONS[revision]
    unexplained = {
        f"{f['rule_name']} (line {f['line']}): {f['message']}"
        for f in findings
        if f["rule_name"] not in allowed
    }
    assert not unexplained, f"review and document these in docs/deploy.md: {unexplained}"
    assert not set(allowed) - rules, "an exception is no longer needed: remove it"
