"""jemput-kit's commands as a technician types them."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from firmware.cli import app
from hw_sim.world import World
from simulator.kit import resident_of
from storage.keys import Authority, AuthorityPublic
from storage.kit import provision
from storage.model import Policy
from storage.officers import make_officer
from storage.verify import verify_folder
from storage.worklist import load_worklist
from vocabulary.people import Role

SAMPLE_WORKLIST = Path(__file__).parents[2] / "docs" / "samples" / "worklist-blitar.csv"

runner = CliRunner()


def test_demo_then_status(tmp_path: Path) -> None:
    data = tmp_path / "kit"
    result = runner.invoke(
        app, ["sim", "demo", "--people", "3", "--data-dir", str(data), "--seed", "4"]
    )
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
    assert (facts["key_backend"], facts["data_key_backend"]) == ("file", "file")

    text = runner.invoke(app, ["status", "--data-dir", str(data)])
    assert "rekaman disegel     3" in text.output and "kit DEMO" in text.output
    assert "kit file, TIDAK TERLINDUNGI; data file, TIDAK TERLINDUNGI" in text.output
    assert "stok blangko" in text.output and "{" not in text.output
    shown = re.search(r"jam kit +(\d\d-\d\d-\d{4} \d\d:\d\d:\d\d) (\S+)", text.output)
    assert shown is not None and shown[2] == datetime.now().astimezone().tzname(), "local time"
    english = runner.invoke(app, ["status", "--data-dir", str(data)], env={"JEMPUT_LANGUAGE": "en"})
    assert "records sealed  3" in english.output and "file, UNPROTECTED" in english.output


def test_status_of_a_folder_that_is_no_kit_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no provisioned kit" in result.output and "jemput-kit sim demo" in result.output


def test_status_names_a_damaged_record_and_fails(tmp_path: Path) -> None:
    data = tmp_path / "kit"
    assert (
        runner.invoke(app, ["sim", "demo", "--people", "2", "--data-dir", str(data)]).exit_code == 0
    )
    record = data / "records" / "00000002.cose"
    record.write_bytes(record.read_bytes()[:40])

    result = runner.invoke(app, ["status", "--data-dir", str(data)])
    assert result.exit_code == 1
    assert "RUSAK" in result.output and "00000002.cose" in result.output


def test_every_command_has_help() -> None:
    for command in (["run"], ["status"], ["sim", "demo"], ["sim", "web"], ["sim", "terminal"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "--data-dir" in result.output


def test_a_simulator_option_a_mode_cannot_take_is_refused_by_name(tmp_path: Path) -> None:
    """The terminal kit has no page: --port is refused, not silently ignored."""
    result = runner.invoke(app, ["sim", "terminal", "--port", "9000"])
    assert result.exit_code == 2 and "No such option: --port" in result.output
    result = runner.invoke(app, ["run", "--web"])
    assert result.exit_code == 2 and "No such option: --web" in result.output


def test_simulator_options_that_cannot_go_together_are_refused_with_a_message(
    tmp_path: Path,
) -> None:
    """The doubles have no wires to run fast: --fast with --doubles is refused, not ignored."""
    data = tmp_path / "demo"
    result = runner.invoke(
        app, ["sim", "demo", "--doubles", "--fast", "--data-dir", str(data), "--people", "1"]
    )
    assert result.exit_code == 2, result.output
    assert "--fast with --doubles: the contract-level doubles have no wires" in result.output
    assert "Traceback" not in result.output and not data.exists()
    result = runner.invoke(app, ["sim", "demo", "--doubles", "--sensor", "R503"])
    assert result.exit_code == 2, result.output
    assert "--sensor with --doubles: " in result.output and "sensor needs the wire" in result.output


def test_run_without_a_pi_configuration_says_how_to_run_the_simulator(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--data-dir", str(tmp_path / "kit")])
    assert result.exit_code == 2, result.output
    assert "jemput-kit sim web" in result.output and "Traceback" not in result.output


def flashed_kit(data: Path) -> None:
    """A kit provisioned for a real village: its own authority, officer and worklist."""
    authority = Authority.init(data.parent / "authority", name="Dukcapil Blitar")
    provision(
        data,
        authority=authority,
        kit_id="KIT-3505-02",
        region="3505",
        officers=(make_officer("OFF-009", "RINA", Role.OFFICER, "111111"),),
        worklist=load_worklist(SAMPLE_WORKLIST),
        policy=Policy(print_on_site=False),
        now=datetime.now(UTC),
    )


def test_demo_on_a_flashed_kit_enrols_its_worklist_with_the_officers_pin(tmp_path: Path) -> None:
    data = tmp_path / "kit"
    flashed_kit(data)
    args = ["sim", "demo", "--people", "3", "--data-dir", str(data), "--doubles"]

    result = runner.invoke(app, [*args, "--officer", "OFF-009:111111"])
    assert result.exit_code == 0, result.output
    assert "provisioned" not in result.output, "a flashed kit is never made a demo kit"
    worklist = {r.nik for r in load_worklist(SAMPLE_WORKLIST)}
    enrolled = {
        next(word for word in line.split() if len(word) == 16 and word.isdigit())
        for line in result.output.splitlines()
        if "sealed #" in line
    }
    assert len(enrolled) == 3 and len(enrolled & worklist) == 2, "two from the list, a walk-in"
    report = verify_folder(data / "records", AuthorityPublic.load(tmp_path / "authority"))
    assert report.ok and report.count == 3


def test_demo_on_a_kit_flashed_with_a_generated_worklist_and_an_official(tmp_path: Path) -> None:
    """Residents the simulated world never made, of another regency than its walk-ins',
    and a village official whose finger the kit never enrolled: the official logs in by
    PIN (the kit records only with them present), the walk-in lives in the kit's regency."""
    kediri = tuple(  # referenced as the world made them, numbered in Kota Kediri
        replace(resident_of(p), nik=f"357101{p.nik[6:]}", regency="KOTA KEDIRI")
        for p in World(7, people=30).residents
    )
    provision(
        tmp_path / "kit",
        authority=Authority.init(tmp_path / "authority", name="Dukcapil Kota Kediri"),
        kit_id="KIT-3571-01",
        region="3571",
        officers=(
            make_officer("OFF-1", "RINA", Role.OFFICER, "111111"),
            make_officer("KDS-1", "SUTOPO", Role.OFFICIAL, "333333"),
        ),
        worklist=kediri,
        policy=Policy(print_on_site=False, official_required=True),
        now=datetime.now(UTC),
    )
    args = ["sim", "demo", "--people", "3", "--data-dir", str(tmp_path / "kit"), "--doubles"]

    result = runner.invoke(app, [*args, "--officer", "OFF-1:111111", "--official", "KDS-1:333333"])
    assert result.exit_code == 0, result.output
    assert "the village official SUTOPO is present" in result.output
    sealed = [line for line in result.output.splitlines() if "sealed #" in line]
    niks = [next(word for word in line.split() if len(word) == 16) for line in sealed]
    assert len(niks) == 3 and all(nik.startswith("3571") for nik in niks), sealed


def test_demo_on_a_flashed_kit_names_its_officers_when_none_fits(tmp_path: Path) -> None:
    data = tmp_path / "kit"
    flashed_kit(data)
    result = runner.invoke(
        app, ["sim", "demo", "--people", "1", "--data-dir", str(data), "--doubles"]
    )
    assert result.exit_code == 1
    assert "--officer ID:PIN" in result.output and "OFF-009" in result.output
