"""The `triage` command line: keys, reviewers and context imports against a data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.models import LooseMessage
from core.store import identity
from evals.simulator import simulate
from tests.support.service import (
    basic,
    bearer,
    make_settings,
    run_store,
    running_service,
    table_rows,
)

SAMPLE = simulate(cases=0, history=4, messages=4, seed=17)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data directory the CLI and the service share."""
    return tmp_path / "data"


def triage(data_dir: Path, *args: str, stdin: str | None = None) -> Any:
    """Runs `triage ARGS` with TRIAGE_DATA_DIR pointing at the test's data directory."""
    runner = CliRunner()
    env = {"TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_DATABASE_URL": None}
    return runner.invoke(app, list(args), input=stdin, env=env, catch_exceptions=False)


def test_keys_create_prints_the_key_last_and_the_key_authenticates(data_dir: Path) -> None:
    """The last output line is the new key, and the running app accepts it as a Bearer token."""
    result = triage(data_dir, "keys", "create", "--name", "wms-orchestrator")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1].strip()
    assert result.stdout.strip().splitlines()[-1].strip() == key
    assert key.startswith("trg_")
    assert len(key) > 30

    with running_service(data_dir) as service:
        assert service.http.get("/v1/cases", headers=bearer(key)).status_code == 200
        assert service.http.get("/v1/cases", headers=bearer(key + "x")).status_code == 401


def test_keys_create_defaults_to_the_orchestrator_scope_and_takes_scope(data_dir: Path) -> None:
    """A plain key may not read the approval queue; a `--scope read` key may, but not submit."""
    plain = triage(data_dir, "keys", "create", "--name", "plain").stdout.strip().splitlines()[-1]
    made = triage(data_dir, "keys", "create", "--name", "auditor", "--scope", "read")
    assert "scope read" in made.output
    reader = made.stdout.strip().splitlines()[-1].strip()
    assert triage(data_dir, "keys", "create", "--name", "x", "--scope", "root").exit_code != 0

    with running_service(data_dir) as service:
        refused = service.http.get("/v1/approvals", headers=bearer(plain.strip()))
        assert refused.status_code == 403
        assert refused.json()["rule"] == "key-scope"
        assert service.http.get("/v1/approvals", headers=bearer(reader)).status_code == 200
        assert service.http.post("/v1/cases", json={}, headers=bearer(reader)).status_code == 403


def test_keys_create_refuses_a_duplicate_name(data_dir: Path) -> None:
    """A second key with the same name is an error, not a silent overwrite."""
    assert triage(data_dir, "keys", "create", "--name", "dup").exit_code == 0
    again = triage(data_dir, "keys", "create", "--name", "dup")
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_users_add_creates_a_person_with_both_roles(data_dir: Path) -> None:
    """`users add NAME --role r1 --role r2 --password-stdin` stores a reviewer who can log in."""
    result = triage(
        data_dir,
        "users",
        "add",
        "greta",
        "--role",
        "buyer",
        "--role",
        "inventory_controller",
        "--password-stdin",
        stdin="s3cret-passw0rd\n",
    )
    assert result.exit_code == 0, result.output

    async def lookup(conn: Any) -> Any:
        return await identity.verify_password(conn, "greta", "s3cret-passw0rd")

    person = run_store(make_settings(data_dir).resolved_database_url, lookup)
    assert person.is_person
    assert person.roles == frozenset({"buyer", "inventory_controller"})
    with running_service(data_dir) as service:
        ok = service.http.get("/v1/approvals", headers=basic("greta", "s3cret-passw0rd"))
        assert ok.status_code == 200
        wrong = service.http.get("/v1/approvals", headers=basic("greta", "not-the-password"))
        assert wrong.status_code == 401


def test_users_add_without_password_stdin_fails(data_dir: Path) -> None:
    """The password is only ever read from standard input."""
    result = triage(data_dir, "users", "add", "hank", "--role", "buyer")
    assert result.exit_code != 0


def test_import_history_reports_the_bad_line_and_imports_the_rest(
    data_dir: Path, tmp_path: Path
) -> None:
    """Line 2 is invalid and line 4 has an unknown cause; lines 1 and 3 are stored."""
    good_1, good_3 = SAMPLE.history[0], SAMPLE.history[1]
    bad_2 = {**SAMPLE.history[2], "workflow": "teleportation"}
    bad_4 = json.loads(json.dumps(SAMPLE.history[3]))
    bad_4["resolution"]["cause"] = "gremlins"
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (good_1, bad_2, good_3, bad_4)) + "\n")

    result = triage(data_dir, "import", "history", str(path))
    assert result.exit_code == 0, result.output
    squeezed = "".join(result.output.split())  # rich wraps long lines at the terminal width
    assert "history.jsonl:line2:workflow" in squeezed
    assert "history.jsonl:line4:resolution.cause" in squeezed
    assert "imported2historyrecords;2rejected" in squeezed
    settings = make_settings(data_dir)
    assert table_rows(settings, "history", good_1["case_id"])
    assert table_rows(settings, "history", good_3["case_id"])
    assert not table_rows(settings, "history", bad_2["case_id"])
    assert not table_rows(settings, "history", bad_4["case_id"])


def test_import_messages_reports_the_bad_line_and_imports_the_rest(
    data_dir: Path, tmp_path: Path
) -> None:
    """A message with an unknown channel on line 3 is reported; the others are stored."""
    good = SAMPLE.messages[:2]
    bad = {**SAMPLE.messages[2], "channel": "fax"}
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (*good, bad)) + "\n")

    result = triage(data_dir, "import", "messages", str(path))
    assert result.exit_code == 0, result.output
    squeezed = "".join(result.output.split())
    assert "messages.jsonl:line3:channel" in squeezed
    assert "imported2messagesrecords;1rejected" in squeezed
    settings = make_settings(data_dir)
    for record in good:
        message_id = LooseMessage.model_validate(record).message_id()
        assert table_rows(settings, "loose_messages", message_id, column="message_id")


def test_import_of_only_bad_lines_exits_non_zero(data_dir: Path, tmp_path: Path) -> None:
    """A file in which no record is valid is a failure for scripts."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"not": "a message"}\n')
    result = triage(data_dir, "import", "messages", str(path))
    assert result.exit_code == 1


def test_keys_reseal_rotates_callback_secrets_to_the_new_key(data_dir: Path) -> None:
    """The documented rotation: "new,old", `triage keys reseal`, then the new key alone serves."""
    from cryptography.fernet import Fernet

    from core.sealed_secrets import SecretBox

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    runner = CliRunner()
    env: dict[str, str | None] = {"TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_DATABASE_URL": None}

    def run(key: str, *args: str) -> Any:
        return runner.invoke(app, list(args), env={**env, "TRIAGE_SECRET_KEY": key})

    def said(result: Any) -> str:
        return " ".join(result.output.split())  # the console wraps long lines

    created = run(old, "keys", "create", "--name", "wms", "--callback-url", "https://wms.example/h")
    assert created.exit_code == 0, created.output
    [secret] = [line for line in created.stdout.split() if line.startswith("whsec_")]
    resealed = run(f"{new},{old}", "keys", "reseal")
    assert resealed.exit_code == 0, resealed.output
    assert "resealed 1 callback secret(s)" in said(resealed)
    assert "0 already were" in said(resealed)
    assert "1 already were" in said(run(f"{new},{old}", "keys", "reseal"))
    [row] = table_rows(make_settings(data_dir), "api_keys", "wms", column="name")
    assert SecretBox(new, "TRIAGE_SECRET_KEY").open(row["callback_secret"], "it") == secret
    alone = run(new, "keys", "reseal")  # nothing is left under the old key: the new one suffices
    assert alone.exit_code == 0, alone.output
    assert "1 already were" in said(alone)


def _squeezed(result: Any) -> str:
    return " ".join(result.output.split())  # the console wraps long lines


def test_keys_revoke_ends_a_key_and_keys_list_shows_it_without_secrets(data_dir: Path) -> None:
    """A revoked key gets 401; the listing names it as revoked and never shows a hash or secret."""
    made = triage(
        data_dir, "keys", "create", "--name", "wms", "--callback-url", "https://w.example/h"
    )
    key = made.stdout.strip().splitlines()[-1].strip()
    [secret] = [word for word in made.stdout.split() if word.startswith("whsec_")]
    with running_service(data_dir) as service:
        assert service.http.get("/v1/cases", headers=bearer(key)).status_code == 200

    revoked = triage(data_dir, "keys", "revoke", "--name", "wms")
    assert revoked.exit_code == 0, revoked.output
    again = triage(data_dir, "keys", "revoke", "--name", "wms")
    assert again.exit_code == 2
    assert "no live API key named 'wms'" in _squeezed(again)
    listed = CliRunner().invoke(
        app,
        ["keys", "list"],
        env={"TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_DATABASE_URL": None, "COLUMNS": "200"},
    )
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.output.splitlines() if "wms" in line]
    assert "orchestrator" in row
    assert row.count("20") >= 2  # created and revoked dates
    assert "https://w.example/h" in listed.output
    assert secret not in listed.output
    assert identity.hash_key(key) not in listed.output
    with running_service(data_dir) as service:
        assert service.http.get("/v1/cases", headers=bearer(key)).status_code == 401


def test_keys_callback_sets_a_new_target_and_secret(data_dir: Path) -> None:
    """A key made without callbacks gets one; a second call rotates the secret it signs with."""
    from core.sealed_secrets import load_secret_box
    from core.settings import Settings

    assert triage(data_dir, "keys", "create", "--name", "tms").exit_code == 0
    first = triage(
        data_dir, "keys", "callback", "--name", "tms", "--callback-url", "https://t.example/a"
    )
    assert first.exit_code == 0, first.output
    second = triage(
        data_dir,
        "keys",
        "callback",
        "--name",
        "tms",
        "--callback-url",
        "https://t.example/b",
        "--callback-allow",
        "https://t.example/",
    )
    [old] = [word for word in first.stdout.split() if word.startswith("whsec_")]
    [new] = [word for word in second.stdout.split() if word.startswith("whsec_")]
    assert old != new
    settings = make_settings(data_dir)
    [row] = table_rows(settings, "api_keys", "tms", column="name")
    assert row["callback_url"] == "https://t.example/b"
    assert row["callback_allowed"] == ["https://t.example/"]
    key_file = Settings(data_dir=data_dir, database_url=None, secret_key=None)  # as the CLI ran
    assert load_secret_box(key_file).open(row["callback_secret"], "it") == new
    missing = triage(
        data_dir, "keys", "callback", "--name", "nope", "--callback-url", "https://t.example/"
    )
    assert missing.exit_code == 2
    assert "no API key named 'nope'" in _squeezed(missing)
    bad = triage(
        data_dir, "keys", "callback", "--name", "tms", "--callback-url", "ftp://t.example/"
    )
    assert bad.exit_code == 2


def test_users_deactivate_refuses_the_reviewer_from_then_on(data_dir: Path) -> None:
    """A deactivated reviewer's password no longer works; deactivating twice is a clear error."""
    added = triage(
        data_dir,
        "users",
        "add",
        "ivy",
        "--role",
        "buyer",
        "--password-stdin",
        stdin="ivy-passw0rd-1\n",
    )
    assert added.exit_code == 0, added.output
    with running_service(data_dir) as service:
        assert (
            service.http.get("/v1/approvals", headers=basic("ivy", "ivy-passw0rd-1")).status_code
            == 200
        )
    assert triage(data_dir, "users", "deactivate", "ivy").exit_code == 0
    twice = triage(data_dir, "users", "deactivate", "ivy")
    assert twice.exit_code == 2
    assert "no active reviewer named 'ivy'" in _squeezed(twice)
    with running_service(data_dir) as service:
        assert (
            service.http.get("/v1/approvals", headers=basic("ivy", "ivy-passw0rd-1")).status_code
            == 401
        )
