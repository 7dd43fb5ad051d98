"""The ledger key: made once in embedded mode, required in distributed mode (unless the
development setting says otherwise, loudly), never the database's to hold."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.config import Settings
from services.ledger import keys

REDIS = "redis://127.0.0.1:1/0"  # never reached: the key is checked first


def test_embedded_mode_makes_its_key_once(tmp_path: Path) -> None:
    first = keys.load(Settings(data_dir=tmp_path))
    path = tmp_path / "ledger.key"
    assert path.stat().st_mode & 0o777 == 0o600
    again = keys.load(Settings(data_dir=tmp_path))
    assert keys.public_key_text(first) == keys.public_key_text(again)


def test_distributed_mode_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=REDIS)
    with pytest.raises(keys.LedgerKeyMissing, match="MODX_LEDGER_KEY_FILE"):
        keys.load(settings)
    assert not (tmp_path / "ledger.key").exists()
    result = CliRunner().invoke(
        app, ["serve"], env={"MODX_REDIS_URL": REDIS, "MODX_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2 and "no ledger key" in result.output


def test_the_insecure_setting_makes_one_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=REDIS, insecure_ledger_key=True)
    with caplog.at_level(logging.WARNING):
        keys.load(settings)
    assert (tmp_path / "ledger.key").exists()
    assert "INSECURE" in caplog.text


def test_a_configured_key_is_used_and_a_bad_one_refused(tmp_path: Path) -> None:
    made = keys.create_key_file(tmp_path / "given.key")
    text = (tmp_path / "given.key").read_text().strip()
    by_value = keys.load(Settings(data_dir=tmp_path, redis_url=REDIS, ledger_key=text))
    by_file = keys.load(
        Settings(data_dir=tmp_path, redis_url=REDIS, ledger_key_file=tmp_path / "given.key")
    )
    assert {keys.public_key_text(by_value), keys.public_key_text(by_file)} == {
        keys.public_key_text(made)
    }
    with pytest.raises(ValueError, match="32 bytes"):
        keys.load(Settings(data_dir=tmp_path, ledger_key="c2hvcnQ="))
    assert not (tmp_path / "ledger.key").exists()  # nothing made when one is given


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "k"
    made = runner.invoke(app, ["ledger", "keygen", str(path)])
    assert made.exit_code == 0
    public = made.stdout.strip()
    assert public == keys.public_key_text(keys.read_key_file(path))
    assert runner.invoke(app, ["ledger", "keygen", str(path)]).exit_code == 2
    kept = runner.invoke(app, ["ledger", "keygen", str(path), "--if-missing"])
    assert kept.exit_code == 0 and kept.stdout.strip() == public
    derived = runner.invoke(app, ["ledger", "public-key", "--key-file", str(path)])
    assert derived.stdout.strip() == public
