"""`triage keys create --callback-url` and `triage webhooks test` against a verifying receiver."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from cli.main import app
from tests.support.callbacks import receiving


def triage(data_dir: Path, *args: str, allow_private: bool = True) -> Result:
    """Runs `triage ARGS` on the test's data directory, opted in to the localhost receivers."""
    env = {
        "TRIAGE_DATA_DIR": str(data_dir),
        "TRIAGE_DATABASE_URL": None,
        "TRIAGE_SECRET_KEY": None,
        "TRIAGE_CALLBACK_ALLOW_PRIVATE": "true" if allow_private else "false",
    }
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def test_a_key_with_a_callback_prints_its_secret_once_and_the_sample_verifies(
    tmp_path: Path,
) -> None:
    """The printed whsec_ secret verifies the sample; a receiver's 503 makes the command fail."""
    data_dir = tmp_path / "data"
    with receiving("whsec_" + "A" * 32) as receiver:
        created = triage(
            data_dir, "keys", "create", "--name", "wms", "--callback-url", receiver.url
        )
        assert created.exit_code == 0, created.output
        lines = created.stdout.strip().splitlines()
        secret, key = lines[-2].strip(), lines[-1].strip()
        assert secret.startswith("whsec_")
        assert key.startswith("trg_")
        receiver.secret = secret

        sent = triage(data_dir, "webhooks", "test")
        assert sent.exit_code == 0, sent.output
        assert "HTTP 204" in sent.output
        assert not receiver.forged
        (sample,) = receiver.accepted
        assert sample["type"] == "case.pending_approval"
        assert sample["data"]["sample"] is True

        receiver.fail_next = 1
        refused = triage(data_dir, "webhooks", "test", "--key-name", "wms")
        assert refused.exit_code == 1
        assert "HTTP 503" in refused.output


def test_webhooks_test_names_a_key_without_a_callback(tmp_path: Path) -> None:
    """A key that has no callback gets a clear error, not a request."""
    data_dir = tmp_path / "data"
    assert triage(data_dir, "keys", "create", "--name", "plain").exit_code == 0
    result = triage(data_dir, "webhooks", "test", "--key-name", "plain")
    assert result.exit_code == 2
    assert "no callback" in result.output


def test_a_callback_url_on_a_private_address_is_refused_without_the_opt_in(
    tmp_path: Path,
) -> None:
    """Creating a key whose callback resolves to loopback fails, naming the setting that allows it."""
    data_dir = tmp_path / "data"
    for url in ("http://127.0.0.1:9/hooks", "http://localhost/hooks", "http://[::1]/x"):
        result = triage(
            data_dir, "keys", "create", "--name", "wms", "--callback-url", url, allow_private=False
        )
        assert result.exit_code == 2, result.output
        output = " ".join(result.output.split())
        assert "loopback address" in output
        assert "TRIAGE_CALLBACK_ALLOW_PRIVATE=true" in output
    metadata = "http://169.254.169.254/latest/meta-data/"
    result = triage(
        data_dir,
        "keys",
        "create",
        "--name",
        "wms",
        "--callback-url",
        "https://hooks.example/",
        "--callback-allow",
        metadata,
        allow_private=False,
    )
    assert result.exit_code == 2, result.output
    assert "link-local address" in " ".join(result.output.split())
