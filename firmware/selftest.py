"""``jemput-kit selftest``: every device checked, one verdict each, for the technician.

A little more than the capture loop's boot probe: the display shows a test pattern, the
battery and the clock are read and judged, the printers report their status, and the
fingerprint sensor, the signature pad and the camera each take one capture, so a sensor
that answers but cannot image is caught on the bench and not in a village hall.  The
technician puts a finger on the sensor and draws on the pad when asked.

Each verdict says what the device said and, when it failed, what to check.  ``jemput-kit
sim selftest`` runs the same checks on the real drivers over the wire emulators, so the
selftest also proves the drivers; its ``--fault DEVICE:KIND`` breaks a part first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from capture.quality import face_problem
from firmware.power import coprocessor_report, open_coprocessor
from hal.contracts import Devices
from hal.coprocessor import PowerCoprocessor
from hal.exc import DeviceError
from hal.types import FingerPosition
from storage.keys import KeyBackend
from storage.kitkey import KeySettings

#: Seconds each capture waits for the technician's finger or pen.
CAPTURE_TIMEOUT_SECONDS = 10.0
#: Below this charge the kit should not go out: a day of enrolment needs more.
LOW_BATTERY_PERCENT = 20.0
#: A single Li-ion cell outside this range is misread or damaged.
CELL_VOLTS = (3.0, 4.35)
#: A clock reading before this is certainly wrong (the software did not exist).
EARLIEST_TIME = datetime(2025, 1, 1, tzinfo=UTC)
#: The pen is judged lifted sooner than in an enrolment: one stroke is enough here.
PAD_SETTLE_SECONDS = 0.5
#: Where the report goes, in the data folder, for whoever collects the kit.
REPORT_NAME = "selftest.json"

#: What to check on each part, whatever its driver said.
WHAT_TO_CHECK: dict[str, str] = {
    "camera": "check the camera's ribbon cable at both ends and the lamp",
    "fingerprint": "check the UART cable (GPIO14/15) and the sensor's 5 V supply",
    "signature-pad": "check the pad's USB cable and the configured port",
    "panel": "check the button and LED wiring on the GPIO header",
    "display": "check the display's I2C wiring (SDA GPIO2, SCL GPIO3) and address 0x3C",
    "battery": "check the fuel gauge's I2C wiring (address 0x36) and charge the battery",
    "clock": "check the RTC's coin cell and I2C wiring (address 0x68), then set the time",
    "card-printer": "check the card printer's power, USB cable, cover, ribbon and cards",
    "receipt-printer": "check the receipt printer's power, cable, cover and paper roll",
    "coprocessor": (
        "check [ports] coprocessor in kit.toml, the Pico's UART wires (Pi GPIO4/5 to Pico "
        "GP1/GP0) and its firmware (mpremote, docs/devices/coprocessor.md)"
    ),
}


class Failed(Exception):
    """A check found the device working but not fit for a day's work."""


@dataclass(frozen=True)
class Verdict:
    """One device's result: ``said`` is what it answered; ``check`` what to do if not ok."""

    device: str
    ok: bool
    said: str
    check: str = ""


def _camera(devices: Devices, timeout: float) -> str:
    info = devices.camera.probe()
    portrait = devices.camera.capture(timeout=timeout)
    problem = face_problem(portrait)
    if problem is not None:
        raise Failed(f"the test photo is {problem}")
    return f"{info.model}, photo {portrait.width}x{portrait.height}"


def _fingerprint(devices: Devices, timeout: float) -> str:
    sensor = devices.fingerprint
    info = sensor.probe()
    count = sensor.library_count()
    sensor.take_image(FingerPosition.UNKNOWN, timeout=timeout)
    image = sensor.upload_image(FingerPosition.UNKNOWN)
    library = info.detail.get("library_size", "?")
    return f"{info.model}, {count}/{library} templates, test finger quality {image.quality}"


def _signature_pad(devices: Devices, timeout: float) -> str:
    info = devices.signature_pad.probe()
    signature = devices.signature_pad.capture(timeout=timeout, settle=PAD_SETTLE_SECONDS)
    return f"{info.model}, test signature of {signature.points} points"


def _panel(devices: Devices, timeout: float) -> str:
    info = devices.panel.probe()
    return f"{info.model}; the LED and buzzer are not checked: look and listen at boot"


def _display(devices: Devices, timeout: float) -> str:
    display = devices.display
    info = display.probe()
    pattern = ["JEMPUT SELFTEST", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789 -/.:", "#" * 64]
    display.show([line[: display.columns] for line in pattern[: display.lines]])
    return f"{info.model}: test pattern shown, check all {display.lines} lines are readable"


def _battery(devices: Devices, timeout: float) -> str:
    reading = devices.battery.read()
    said = f"{reading.voltage:.2f} V, {reading.percent:.0f} %, {reading.rate:+.1f} %/h"
    low, high = CELL_VOLTS
    if not low <= reading.voltage <= high:
        raise Failed(f"{said}: a cell voltage outside {low}..{high} V")
    if reading.percent < LOW_BATTERY_PERCENT:
        raise Failed(f"{said}: below {LOW_BATTERY_PERCENT:.0f} %, charge before going out")
    return said


def _clock(devices: Devices, timeout: float) -> str:
    reading = devices.clock.read()
    said = f"{reading.time:%Y-%m-%d %H:%M:%S} UTC"
    if not reading.trustworthy:
        raise Failed(f"{said}, but the oscillator stopped since it was set")
    if reading.time < EARLIEST_TIME:
        raise Failed(f"{said} is before {EARLIEST_TIME:%Y}: the time was never set")
    return said


def _printer(role: str) -> Callable[[Devices, float], str]:
    def check(devices: Devices, timeout: float) -> str:
        printer = getattr(devices, role)
        info = printer.probe()
        status = printer.status()
        said = f"{info.model}: {status.state.value}"
        if not status.ready:
            raise Failed(f"{said} ({status.detail})" if status.detail else said)
        return said

    return check


@dataclass(frozen=True)
class Check:
    """How one part is checked: its attribute in Devices, the check, what to ask first."""

    role: str
    run: Callable[[Devices, float], str]
    ask: str = ""


#: Each part of a kit, by the device name its driver gives itself.
CHECKS: dict[str, Check] = {
    "display": Check("display", _display),
    "panel": Check("panel", _panel),
    "battery": Check("battery", _battery),
    "clock": Check("clock", _clock),
    "camera": Check("camera", _camera, "stand in front of the camera"),
    "fingerprint": Check(
        "fingerprint", _fingerprint, "put a finger flat on the fingerprint sensor"
    ),
    "signature-pad": Check("signature_pad", _signature_pad, "draw a stroke on the signature pad"),
    "card-printer": Check("card_printer", _printer("card_printer")),
    "receipt-printer": Check("receipt_printer", _printer("receipt_printer")),
}


def run_selftest(
    devices: Devices,
    *,
    timeout: float = CAPTURE_TIMEOUT_SECONDS,
    ask: Callable[[str], None] | None = None,
    coprocessor: PowerCoprocessor | DeviceError | None = None,
) -> list[Verdict]:
    """Check every part present in ``devices``; ``timeout`` bounds each capture.

    ``ask`` tells the technician what to do before a check that needs them (a finger on
    the sensor).  A printer the kit is not fitted with (None) is left out, not failed.
    ``coprocessor`` is the power Pico the kit opened, or the error it got opening it
    (a failed row); None leaves the row out (a run without one, as a bench test).
    """
    verdicts = []
    for device, check in CHECKS.items():
        if getattr(devices, check.role) is None:
            continue
        if ask is not None and check.ask:
            ask(f"{device}: {check.ask} within {timeout:g} s")
        try:
            said = check.run(devices, timeout)
        except (DeviceError, Failed) as exc:
            verdicts.append(Verdict(device, False, str(exc), WHAT_TO_CHECK[device]))
        else:
            verdicts.append(Verdict(device, True, said))
    if coprocessor is not None:
        verdicts.append(_coprocessor_verdict(coprocessor))
    return verdicts


def _coprocessor_verdict(coprocessor: PowerCoprocessor | DeviceError) -> Verdict:
    """The co-processor's row: its firmware, last reset and cut, cell and line noise."""
    try:
        if isinstance(coprocessor, DeviceError):
            raise coprocessor
        said = coprocessor_report(coprocessor)
    except DeviceError as exc:
        return Verdict("coprocessor", False, str(exc), WHAT_TO_CHECK["coprocessor"])
    return Verdict("coprocessor", True, said)


# -- the command ---------------------------------------------------------------------------


def parse_faults(specs: list[str], valid: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """``["fingerprint:unplugged"]`` as (device, kind) pairs; ValueError lists the valid ones."""
    faults = []
    for spec in specs:
        device, colon, kind = spec.partition(":")
        if not colon or kind not in valid.get(device, ()):
            choices = "\n".join(f"  {name}:{k}" for name, kinds in valid.items() for k in kinds)
            raise ValueError(
                f"--fault {spec!r} is not DEVICE:KIND of a known device; valid:\n{choices}"
            )
        faults.append((device, kind))
    return faults


def _print_table(verdicts: list[Verdict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="jemput-kit selftest")
    for column in ("device", "verdict", "what it said", "what to check"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        mark = "[green]OK[/green]" if v.ok else "[bold red]FAILED[/bold red]"
        table.add_row(v.device, mark, v.said, v.check)
    Console().print(table)


def _key_settings(config: Path | None) -> KeySettings:
    """The key backend kit.toml names (the file backend without one, as the simulator)."""
    from firmware.config import ConfigError, load_config

    try:
        return load_config(config).keys if config is not None else KeySettings()
    except ConfigError:
        return KeySettings()  # the ports' check has reported the file's problem


def _write_report(
    data_dir: Path, verdicts: list[Verdict], *, sim: bool, key_backend: KeyBackend
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    report = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "simulated": sim,
        "key_backend": key_backend.value,
        "verdicts": [asdict(v) for v in verdicts],
    }
    (data_dir / REPORT_NAME).write_text(json.dumps(report, indent=2), encoding="utf-8")


def _pi_verdicts(config: Path | None, timeout: float) -> list[Verdict]:
    from firmware.config import ConfigError, load_config
    from firmware.hardware import configured_devices

    try:
        settings = load_config(config)
    except ConfigError as exc:
        typer.secho(f"jemput-kit: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    opened = configured_devices(settings)
    coprocessor = open_coprocessor(settings.ports.coprocessor)
    try:
        return run_selftest(
            opened.devices, timeout=timeout, ask=typer.echo, coprocessor=coprocessor
        )
    finally:
        opened.devices.close()
        if isinstance(coprocessor, PowerCoprocessor):
            coprocessor.close()


def report_verdicts(
    verdicts: list[Verdict], *, data_dir: Path, simulated: bool, config: Path | None = None
) -> list[str]:
    """Print the table and the key backend, write the report; returns the broken devices."""
    _print_table(verdicts)
    keys = _key_settings(config)
    typer.echo(keys.describe())
    _write_report(data_dir, verdicts, sim=simulated, key_backend=keys.backend)
    broken = [v.device for v in verdicts if not v.ok]
    if broken:
        typer.secho(f"broken: {', '.join(broken)}", fg=typer.colors.RED, err=True)
    else:
        typer.echo(f"all {len(verdicts)} devices passed")
    return broken


def selftest(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where selftest.json (the report) is written.")
    ] = Path("var/kit"),
    config: Annotated[
        Path | None, typer.Option("--config", help="Kit configuration (TOML): the ports.")
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds each capture waits for a finger or pen.", min=0.1)
    ] = CAPTURE_TIMEOUT_SECONDS,
) -> None:
    """Check every part of this kit: a verdict each and what to check (1 if any failed).

    The simulated kit's self-test is ``jemput-kit sim selftest``.
    """
    verdicts = _pi_verdicts(config, timeout)
    if report_verdicts(verdicts, data_dir=data_dir, simulated=False, config=config):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``selftest`` to ``app`` (jemput-kit)."""
    app.command("selftest")(selftest)
