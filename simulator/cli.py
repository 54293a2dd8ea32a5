"""``jemput-kit sim``: the simulated kit, one command per way of running it.

Why a group of its own: the Pi program (`firmware.cli`) never loads the simulator, so the
simulator's commands come to ``jemput-kit`` through the ``jemput.kit_commands`` entry point
(pyproject.toml) and are imported only when ``jemput-kit sim ...`` is typed.  Each mode
takes only the options it can honour, and typer refuses any other by name, so nothing is
silently ignored; what two options cannot do together (``demo --doubles --fast``) is
refused with a message.  What every mode shares is one `SimOptions`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from capture.prompts import Language
from firmware.logs import setup_logging
from firmware.selftest import CAPTURE_TIMEOUT_SECONDS
from hal.types import SensorModel
from simulator.options import DEFAULT_DATA_DIR, SimOptions, SimOptionsError, SimParts
from simulator.tray import PRINTED_DIR
from storage.errors import StorageError
from storage.lock import FolderBusy

app = typer.Typer(
    help="The simulated kit: in a browser page, in this terminal, headless, a scripted day.",
    no_args_is_help=True,
    add_completion=False,
)

#: The browser kit's port on 127.0.0.1.
DEFAULT_WEB_PORT = 8321


DataDir = Annotated[Path, typer.Option("--data-dir", help="The kit's data folder.")]
Seed = Annotated[int, typer.Option(help="Seed of the simulated world.")]
LanguageOption = Annotated[Language, typer.Option(help="Prompt language.")]
Fast = Annotated[
    bool, typer.Option("--fast", help="Devices as fast as the ptys allow, not at wire time.")
]

Sensor = Annotated[
    SensorModel,
    typer.Option(
        "--sensor",
        case_sensitive=False,
        help="The fingerprint sensor's model (kit.toml [parts] fingerprint on a kit).",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"jemput-kit: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """A busy folder or a storage failure as one line and an exit code, never a traceback."""
    try:
        yield
    except FolderBusy as exc:
        raise fail(str(exc), 1) from exc
    except StorageError as exc:
        raise fail(str(exc)) from exc


def _prepared(options: SimOptions) -> SimOptions:
    """The data folder made (0700) and the kit's log opened in it."""
    from firmware.config import ConfigError, KitConfig, prepare_data_dir

    try:
        prepare_data_dir(KitConfig(data_dir=options.data_dir), source="--data-dir")
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    setup_logging(options.data_dir, level="INFO")
    return options


@app.command()
def web(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    seed: Seed = 1,
    language: LanguageOption = Language.ID,
    fast: Fast = False,
    sensor: Sensor = SensorModel.R307,
    port: Annotated[
        int, typer.Option("--port", help="The page's port on 127.0.0.1 (0: any free one).")
    ] = DEFAULT_WEB_PORT,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="A training scenario (name or file), on a training kit."),
    ] = None,
) -> None:
    """The simulated kit as a page in a browser: display, buttons, the world in front."""
    from simulator.kit import NotATrainingKit
    from simulator.web.kit import run_web
    from simulator.web.scenario import ScenarioError

    options = _prepared(SimOptions(data_dir, seed, language, SimParts(fast=fast, sensor=sensor)))
    with _one_line_errors():
        try:
            run_web(options, port=port, scenario=scenario, echo=typer.echo)
        except (ScenarioError, NotATrainingKit, OSError) as exc:
            raise fail(str(exc)) from exc


@app.command()
def terminal(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    seed: Seed = 1,
    language: LanguageOption = Language.ID,
    fast: Fast = False,
    sensor: Sensor = SensorModel.R307,
) -> None:
    """The simulated kit in this terminal: its display and LED, the keyboard as its buttons."""
    from simulator.terminal import run_terminal

    options = _prepared(SimOptions(data_dir, seed, language, SimParts(fast=fast, sensor=sensor)))
    with _one_line_errors():
        run_terminal(options)


@app.command()
def headless(
    port_link: Annotated[
        Path, typer.Option("--port-link", help="Link the provisioning pty here (required).")
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    seed: Seed = 1,
    fast: Fast = False,
    sensor: Sensor = SensorModel.R307,
) -> None:
    """No screen: serve the kit's provisioning port on a pty at PORT_LINK until SIGTERM.

    A folder that is not a kit yet stays unflashed until ``jemput-prov flash`` makes it one.
    """
    from simulator.headless import run_headless

    options = _prepared(SimOptions(data_dir, seed, parts=SimParts(fast=fast, sensor=sensor)))
    with _one_line_errors():
        run_headless(options, port_link)


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="How many residents to enrol.", min=1)] = 20,
    data_dir: DataDir = Path("var/demo"),
    seed: Seed = 1,
    language: LanguageOption = Language.ID,
    fast: Fast = False,
    sensor: Sensor = SensorModel.R307,
    doubles: Annotated[
        bool,
        typer.Option("--doubles", help="Contract-level device doubles instead of the emulators."),
    ] = False,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer",
            metavar="ID:PIN",
            help="The officer who works a flashed kit, logging in with this PIN.",
        ),
    ] = None,
    official: Annotated[
        str | None,
        typer.Option(
            "--official",
            metavar="ID:PIN",
            help="The village official of a flashed kit, present with this PIN.",
        ),
    ] = None,
    port_link: Annotated[
        Path | None,
        typer.Option("--port-link", help="Serve the kit's provisioning pty here while enrolling."),
    ] = None,
) -> None:
    """A scripted outreach session: an officer bot enrols PEOPLE residents by pressing buttons.

    A data folder that is not yet a kit is provisioned as a demo kit first; running again on
    the same folder continues the same kit (its sequence goes on).  With --port-link PATH
    the kit serves its provisioning port on a pty linked at PATH while the bot enrols, so
    `jemput-prov collect PATH` can collect in the middle of the day.
    """
    from simulator.demo import DemoError, Outcome, run_demo

    on_duty, present = _id_and_pin("--officer", officer), _id_and_pin("--official", official)
    try:
        parts = SimParts(doubles=doubles, fast=fast, sensor=sensor)
    except SimOptionsError as exc:
        chosen = (("--fast", fast), ("--sensor", sensor is not SensorModel.R307))
        asked = [flag for flag, on in chosen if on]
        raise fail(f"{' and '.join(asked)} with --doubles: {exc}") from exc
    options = _prepared(SimOptions(data_dir, seed, language, parts))

    def report(outcome: Outcome) -> None:
        typer.echo(
            f"  sealed #{outcome.seq:<4} {outcome.name[:32]:32} {outcome.nik}  fingers "
            f"{outcome.fingers:5} exceptions {outcome.exceptions:12} {outcome.printed:5} "
            f"{outcome.kind} {outcome.purpose}"
        )

    with _one_line_errors():
        try:
            day = run_demo(
                options,
                people=people,
                officer=on_duty,
                official=present,
                port_link=port_link,
                report=report,
                note=typer.echo,
            )
        except DemoError as exc:
            raise fail(str(exc), 1) from exc
    outcomes = day.outcomes
    if not doubles:
        typer.echo(f"printed cards and slips: {data_dir / PRINTED_DIR}")
    typer.echo(
        f"sealed {len(outcomes)} records this run (#{outcomes[0].seq}..#{outcomes[-1].seq}); "
        f"the kit holds {day.status.sealed}, card stock {day.status.cards['stock']}"
    )
    if day.status.demo:
        typer.echo(
            f"verify: jemput-prov verify {data_dir / 'records'} --authority "
            f"{data_dir / 'demo-authority'}"
        )


def _id_and_pin(option: str, given: str | None) -> tuple[str, str] | None:
    """``ID:PIN`` as given to ``option``, split (None when it was not given)."""
    if given is None:
        return None
    officer_id, _, pin = given.partition(":")
    if not officer_id or not pin.isdigit():
        raise fail(f"{option} {given!r}: expected ID:PIN, e.g. PTG-001:246810")
    return officer_id, pin


@app.command()
def selftest(
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault", help="Break DEVICE with KIND first (repeatable).", metavar="DEVICE:KIND"
        ),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where selftest.json (the report) is written.")
    ] = DEFAULT_DATA_DIR,
    seed: Seed = 1,
    timeout: Annotated[
        float, typer.Option(help="Seconds each capture waits for a finger or pen.", min=0.1)
    ] = CAPTURE_TIMEOUT_SECONDS,
) -> None:
    """The technician's self-test on the real drivers against the wire emulators."""
    from firmware.selftest import parse_faults, report_verdicts
    from simulator.hardware import DEVICE_FAULTS, bench_verdicts

    try:
        faults = parse_faults(fault or [], DEVICE_FAULTS)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    verdicts = bench_verdicts(faults, seed, timeout)
    broken = report_verdicts(verdicts, data_dir=data_dir, simulated=True)
    for device in sorted({d for d, _ in faults} - set(broken)):
        typer.echo(
            f"note: the fault injected into {device} did not show: its driver absorbs it "
            "or it strikes only on use (a card jam on the next print)"
        )
    if broken:
        raise typer.Exit(1)
