"""jemput-kit's commands as a technician types them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from firmware.cli import app

runner = CliRunner()


def test_demo_then_status(tmp_path: Path) -> None:
    data = tmp_path / "kit"
    result = runner.invoke(app, ["demo", "--people", "3", "--data-dir", str(data), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "provisioned" in result.output and "DEMO" in result.output
    assert result.output.count("sealed #") == 3
    assert f"jemput-prov verify {data / 'records'}" in result.output

    status = runner.invoke(app, ["status", "--data-dir", str(data), "--json"])
    assert status.exit_code == 0, status.output
    facts = json.loads(status.output)
    assert (facts["sealed"], facts["last_seq"], facts["uncollected"]) == (3, 3, 3)
    assert facts["demo"] is True and facts["damaged"] == []
    assert facts["cards"]["stock"] == facts["cards"]["loaded"] - facts["cards"]["printed"]

    text = runner.invoke(app, ["status", "--data-dir", str(data)])
    assert "records sealed  3" in text.output and "DEMO kit" in text.output


def test_status_of_a_folder_that_is_no_kit_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no provisioned kit" in result.output and "jemput-kit demo" in result.output


def test_status_names_a_damaged_record_and_fails(tmp_path: Path) -> None:
    data = tmp_path / "kit"
    assert runner.invoke(app, ["demo", "--people", "2", "--data-dir", str(data)]).exit_code == 0
    record = data / "records" / "00000002.cose"
    record.write_bytes(record.read_bytes()[:40])

    result = runner.invoke(app, ["status", "--data-dir", str(data)])
    assert result.exit_code == 1
    assert "DAMAGED" in result.output and "00000002.cose" in result.output


def test_every_command_has_help() -> None:
    for command in ("run", "demo", "status"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "--data-dir" in result.output
