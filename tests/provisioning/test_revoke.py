"""`jemput-prov revoke`: a stolen kit's later records named by verify, its collection refused."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, app
from storage.revocation import REVOCATIONS_FILE
from tests.provisioning.test_flash_collect import Bench, bench, enrol, flash_cli

__all__ = ["bench"]  # the fixture, shared with the flash-and-collect tests


def revoke(bench: Bench, *args: str) -> object:
    return CliRunner().invoke(app, ["revoke", *args, *bench.args])


def test_a_revoked_kit_is_not_collected_and_its_later_records_are_named(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, people=2)
    store = bench.host.store
    assert store is not None
    revoked = revoke(bench, "KIT-3505-07", "--from", "2000-01-01T00:00+07:00", "--reason", "hilang")
    assert revoked.exit_code == EXIT_OK, revoked.output
    assert "kit KIT-3505-07 was revoked from 1999-12-31T17:00:00+00:00 (hilang" in revoked.output
    assert (bench.tmp / "authority" / REVOCATIONS_FILE).is_file()

    db = bench.tmp / "collector.db"
    collected = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert collected.exit_code == EXIT_PROBLEMS, collected.output
    assert "nothing is collected from it and no receipt is sent" in collected.output
    assert "Traceback" not in collected.output
    assert store.status().uncollected == 2, "no receipt: the kit keeps its records"

    verified = CliRunner().invoke(app, ["verify", str(bench.tmp / "kit"), *bench.args])
    assert verified.exit_code == EXIT_PROBLEMS, verified.output
    named = [line for line in verified.output.splitlines() if "SealedAfterRevocation" in line]
    assert len(named) == 2 and "00000001.cose" in named[0] and "00000002.cose" in named[1]


def test_a_revocation_before_the_records_leaves_them_valid(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, people=1)
    assert revoke(bench, "OTHER-KIT", "--from", "now").exit_code == EXIT_OK
    verified = CliRunner().invoke(app, ["verify", str(bench.tmp / "kit"), *bench.args])
    assert verified.exit_code == EXIT_OK, verified.output


def test_a_time_without_offset_is_a_usage_error(bench: Bench, tmp_path: Path) -> None:
    result = revoke(bench, "KIT-3505-07", "--from", "2026-12-01 08:00")
    assert result.exit_code == EXIT_USER_ERROR
    assert "is not a time with its offset" in result.output
    assert not (bench.tmp / "authority" / REVOCATIONS_FILE).exists()


def test_revoking_without_the_authority_keys_is_refused(bench: Bench, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["revoke", "K", "--from", "now", "--authority", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == EXIT_USER_ERROR
    assert "authority folder" in result.output and "does not exist" in result.output
