"""jemput-kit selftest: one verdict per device, on the real drivers over the emulators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from firmware.cli import app as kit_app
from firmware.selftest import (
    CHECKS,
    WHAT_TO_CHECK,
    Verdict,
    parse_faults,
    register,
    run_selftest,
)
from hw_sim.doubles import sim_devices
from hw_sim.wired import WiredKit
from hw_sim.world import World
from simulator.hardware import wired_kit

#: Seconds each capture may wait: enough for the emulated pen, short for a silent pad.
TIMEOUT = 3.0
ALL_DEVICES = list(CHECKS)

runner = CliRunner()


def app() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def main() -> None:
        """A stand-in for jemput-kit, which registers selftest the same way."""

    register(cli)
    return cli


def bench_world(seed: int = 1) -> World:
    world = World(seed, people=6, walk_ins=0, clock_speed=0.0)
    world.subject = next(p for p in world.residents if not p.fingers)
    return world


def selftest_with(*faults: tuple[str, str]) -> dict[str, Verdict]:
    with wired_kit(bench_world(), faults=faults, wait_scale=0.1, reply_timeout=0.3) as (_, kit):
        return {v.device: v for v in run_selftest(kit.devices, timeout=TIMEOUT)}


def test_a_healthy_kit_passes_every_device_on_the_real_drivers() -> None:
    verdicts = selftest_with()

    assert list(verdicts) == ALL_DEVICES
    assert all(v.ok for v in verdicts.values()), [v for v in verdicts.values() if not v.ok]
    assert "quality" in verdicts["fingerprint"].said
    assert "points" in verdicts["signature-pad"].said
    assert "test pattern" in verdicts["display"].said


#: Faults on every device at once, each with what its verdict must say; two sets, so
#: that each device is seen failing in two ways.  The others' verdicts stay OK.
FAULT_SETS = {
    "first": {
        ("fingerprint", "poor-image"): "feature",
        ("card-printer", "ribbon-out"): "ribbon-out",
        ("receipt-printer", "paper-out"): "no-media",
        ("display", "unplugged"): "no answer from display",
        ("battery", "drain"): "charge before going out",
        ("clock", "osc-stopped"): "oscillator stopped",
        ("camera", "dark"): "too dark",
    },
    "second": {
        ("fingerprint", "unplugged"): "no answer to VfyPwd",
        ("signature-pad", "unplugged"): "sent nothing at all",
        ("card-printer", "unplugged"): "card printer",
        ("receipt-printer", "cover-open"): "cover-open",
        ("battery", "wrong-version"): "not a MAX17048",
        ("clock", "unplugged"): "no answer from clock",
        ("camera", "hang"): "no still",
    },
}


@pytest.mark.parametrize("faults", FAULT_SETS.values(), ids=FAULT_SETS.keys())
def test_each_fault_fails_its_device_and_says_what_to_check(
    faults: dict[tuple[str, str], str],
) -> None:
    verdicts = selftest_with(*faults)

    broken = {name for name, v in verdicts.items() if not v.ok}
    assert broken == {device for device, _ in faults}
    for (device, _), said in faults.items():
        assert said in verdicts[device].said
        assert verdicts[device].check == WHAT_TO_CHECK[device]


def test_a_kit_without_printers_is_not_failed_for_them() -> None:
    devices = sim_devices(bench_world(), card_printer=False)
    devices.receipt_printer = None

    verdicts = run_selftest(devices, timeout=0.1)

    assert [v.device for v in verdicts] == ALL_DEVICES[:-2]


def test_the_technician_is_asked_before_each_capture() -> None:
    asked: list[str] = []
    run_selftest(sim_devices(bench_world()), timeout=0.1, ask=asked.append)
    assert [line.split(":")[0] for line in asked] == ["camera", "fingerprint", "signature-pad"]


def test_parse_faults_lists_the_valid_pairs() -> None:
    assert parse_faults(["clock:osc-stopped"], WiredKit.DEVICE_FAULTS) == [("clock", "osc-stopped")]
    for bad in ("clock", "clock:melted", "toaster:unplugged"):
        with pytest.raises(ValueError, match="card-printer:out-of-cards"):
            parse_faults([bad], WiredKit.DEVICE_FAULTS)


def test_the_command_passes_a_healthy_sim_kit_and_writes_its_report(tmp_path: Path) -> None:
    result = runner.invoke(
        kit_app, ["sim", "selftest", "--data-dir", str(tmp_path), "--timeout", str(TIMEOUT)]
    )

    assert result.exit_code == 0, result.output
    assert "all 10 devices passed" in result.output
    report = json.loads((tmp_path / "selftest.json").read_text())
    assert report["simulated"] is True and all(v["ok"] for v in report["verdicts"])
    (pico,) = [v for v in report["verdicts"] if v["device"] == "coprocessor"]
    assert pico["said"].startswith("firmware ") and "last reset POWER_ON" in pico["said"]
    assert "cell 3.90 V (OK)" in pico["said"]


def test_the_command_fails_naming_the_broken_parts(tmp_path: Path) -> None:
    args = ["sim", "selftest", "--data-dir", str(tmp_path), "--timeout", str(TIMEOUT)]
    args += ["--fault", "clock:osc-stopped", "--fault", "card-printer:out-of-cards"]
    args += ["--fault", "coprocessor:unplugged"]

    result = runner.invoke(kit_app, args)

    assert result.exit_code == 1, result.output
    assert "broken: clock, card-printer, coprocessor" in result.output
    assert "FAILED" in result.output


def test_a_fault_selftest_cannot_see_is_said_so(tmp_path: Path) -> None:
    args = ["sim", "selftest", "--data-dir", str(tmp_path), "--timeout", str(TIMEOUT)]
    result = runner.invoke(kit_app, [*args, "--fault", "card-printer:jam"])

    assert result.exit_code == 0, result.output
    assert "fault injected into card-printer did not show" in result.output


@pytest.mark.parametrize("fault", ["fingerprint", "fingerprint:melted", "toaster:unplugged"])
def test_bad_faults_exit_2_with_what_is_valid(tmp_path: Path, fault: str) -> None:
    args = ["sim", "selftest", "--data-dir", str(tmp_path), "--fault", fault]
    result = runner.invoke(kit_app, args)

    assert result.exit_code == 2, result.output
    assert "fingerprint:poor-image" in result.output
    assert not (tmp_path / "selftest.json").exists()


def test_the_kits_own_selftest_takes_no_simulated_fault(tmp_path: Path) -> None:
    """Faults break simulated parts only: the Pi's selftest refuses the option by name."""
    result = runner.invoke(app(), ["selftest", "--data-dir", str(tmp_path), "--fault", "clock:x"])

    assert result.exit_code == 2, result.output
    assert "No such option: --fault" in result.output
    assert not (tmp_path / "selftest.json").exists()
