"""``jemput-kit``: the kit's program — run it, run a scripted demo, read its status.

On a Pi the kit starts with ``jemput-kit run`` from its systemd unit; on a laptop
``jemput-kit run --sim`` puts the same program in the terminal with simulated devices.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from capture.prompts import Language
from firmware.config import Backend, ConfigError, KitConfig, load_config, prepare_data_dir
from firmware.logs import setup_logging
from firmware.quality_cli import register as register_quality
from firmware.selftest import register as register_selftest
from firmware.tray import PRINTED_DIR
from storage.errors import StorageError
from storage.kit import KitStatus, KitStore, NotProvisioned
from storage.kitkey import describe_backend
from storage.lock import FolderBusy

app = typer.Typer(
    help="Jemput kit: e-KTP enrolment (run, demo, status).",
    no_args_is_help=True,
    add_completion=False,
)

DataDir = Annotated[Path, typer.Option("--data-dir", help="The kit's data folder.")]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="Kit configuration (TOML); see docs/config.md.")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"jemput-kit: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _config(config: Path | None, **overrides: object) -> KitConfig:
    """The configuration with its data folder made; every mistake one line, exit 2."""
    try:
        settings = load_config(config, **{k: v for k, v in overrides.items() if v is not None})
        named_in = f"{config or '(defaults)'}: [kit] data_dir"
        prepare_data_dir(settings, source="--data-dir" if overrides.get("data_dir") else named_in)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    return settings


@app.command()
def run(
    sim: Annotated[
        bool, typer.Option("--sim", help="Simulated devices, in this terminal.")
    ] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="The kit's data folder [default: var/kit].")
    ] = None,
    config: ConfigFile = None,
    language: Annotated[Language | None, typer.Option(help="Prompt language.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated world.")] = 1,
    headless: Annotated[
        bool, typer.Option("--headless", help="No terminal; serve the provisioning port.")
    ] = False,
    port_link: Annotated[
        Path | None, typer.Option("--port-link", help="Link the provisioning pty here.")
    ] = None,
    fast: Annotated[
        bool,
        typer.Option("--fast", help="--sim: devices as fast as the ptys allow, not at wire time."),
    ] = False,
    web: Annotated[
        bool, typer.Option("--web", help="With --sim: the kit as a page on 127.0.0.1.")
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="With --web: the page's port (0: any free one).")
    ] = 8321,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="With --web: a training scenario (name or file)."),
    ] = None,
) -> None:
    """Run the kit: on the Pi with its real parts (backend "pi" in --config), or with --sim
    the simulated kit with its display, LED and four buttons in this terminal.

    With --sim --headless --port-link PATH the simulated kit runs without a terminal and
    serves its provisioning port on a pty linked at PATH, for jemput-prov, until SIGTERM.
    """
    settings = _config(config, data_dir=data_dir, language=language)
    setup_logging(settings.data_dir, level=settings.log_level)
    try:
        if not sim and settings.backend is Backend.PI:
            from firmware.pi import run_pi

            state = run_pi(settings)
            typer.echo(f"jemput-kit: stopped in {state}")
            return
        if headless:
            if port_link is None:
                raise fail("--headless needs --port-link PATH")
            from firmware.headless import run_headless

            run_headless(settings.data_dir, port_link, seed)
            return
        if web or scenario:
            from firmware.sim import NotATrainingKit
            from firmware.web.kit import run_web
            from firmware.web.scenario import ScenarioError

            try:
                run_web(
                    settings.data_dir,
                    seed=seed,
                    port=port,
                    language=settings.language,
                    scenario=scenario,
                    echo=typer.echo,
                )
            except (ScenarioError, NotATrainingKit, OSError) as exc:
                raise fail(str(exc)) from exc
            return
        from firmware.terminal import run_terminal

        run_terminal(settings, seed=seed, fast=fast)
    except FolderBusy as exc:
        raise fail(str(exc), 1) from exc
    except StorageError as exc:
        raise fail(str(exc)) from exc


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="How many residents to enrol.", min=1)] = 20,
    data_dir: DataDir = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="Seed of the simulated world.")] = 1,
    language: Annotated[Language, typer.Option(help="Prompt language.")] = Language.ID,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer",
            metavar="ID:PIN",
            help="The officer who works a flashed kit, logging in with this PIN.",
        ),
    ] = None,
    fast: Annotated[
        bool,
        typer.Option("--fast", help="Contract-level device doubles instead of the wire emulators."),
    ] = False,
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
    from firmware.demo import DemoError, Outcome, run_session
    from firmware.sim import open_sim_kit

    setup_logging(data_dir, level="INFO")

    def report(outcome: Outcome) -> None:
        typer.echo(
            f"  sealed #{outcome.seq:<4} {outcome.name[:32]:32} {outcome.nik}  fingers "
            f"{outcome.fingers:5} exceptions {outcome.exceptions:12} {outcome.printed:5} "
            f"{outcome.kind} {outcome.purpose}"
        )

    try:
        with contextlib.ExitStack() as stack:
            sim = stack.enter_context(
                open_sim_kit(
                    data_dir,
                    seed=seed,
                    language=language,
                    clock_speed=0.0,
                    wired=not fast,
                    allow_changes=False,
                    cases=True,
                )
            )
            stack.enter_context(sim.host.stepping())
            if port_link is not None:
                from firmware.sim import pty_port

                port = stack.enter_context(pty_port(sim.host, link_path=port_link))
                typer.echo(f"provisioning port {port.port} linked at {port_link}")
            if sim.provisioned:
                typer.echo(
                    f"provisioned {data_dir} as a DEMO kit (demo authority in "
                    f"{data_dir / 'demo-authority'})"
                )
            if officer is not None:
                officer_id, _, pin = officer.partition(":")
                if not officer_id or not pin.isdigit():
                    raise fail(f"--officer {officer!r}: expected ID:PIN, e.g. PTG-001:246810")
                sim.bystanders.on_duty(officer_id, pin)
            typer.echo(f"kit {sim.kit.store.kit_id}: enrolling {people} residents")
            outcomes = run_session(
                sim.kit,
                sim.world,
                sim.bystanders,
                people=people,
                report=report,
                note=typer.echo,
                safe_point=sim.host.safe_point,
            )
            status = sim.kit.store.status()
    except FolderBusy as exc:
        raise fail(str(exc), 1) from exc
    except (DemoError, StorageError) as exc:
        raise fail(str(exc), 1) from exc
    first, last = outcomes[0].seq, outcomes[-1].seq
    if not fast:
        typer.echo(f"printed cards and slips: {data_dir / PRINTED_DIR}")
    typer.echo(
        f"sealed {len(outcomes)} records this run (#{first}..#{last}); "
        f"the kit holds {status.sealed}, card stock {status.cards['stock']}"
    )
    if status.demo:
        typer.echo(
            f"verify: jemput-prov verify {data_dir / 'records'} --authority "
            f"{data_dir / 'demo-authority'}"
        )


@app.command()
def status(
    data_dir: DataDir = Path("var/kit"),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Records sealed, not yet collected, last sequence number, card stock, damage found."""
    try:
        store = KitStore(data_dir, now=lambda: datetime.now(UTC), verify_files=True)
    except NotProvisioned as exc:
        raise fail(str(exc)) from exc
    except StorageError as exc:
        raise fail(str(exc), 1) from exc
    with contextlib.closing(store):
        facts = store.status()
    if as_json:
        typer.echo(json.dumps(_status_map(facts), indent=2))
    else:
        _print_status(facts)
    if facts.damaged or facts.audit_break:
        raise typer.Exit(1)


def _status_map(facts: KitStatus) -> dict[str, object]:
    return {
        "kit_id": facts.kit_id,
        "demo": facts.demo,
        "sealed": facts.sealed,
        "uncollected": facts.uncollected,
        "pruned": facts.pruned,
        "last_seq": facts.last_seq,
        "cards": facts.cards,
        "damaged": facts.damaged,
        "audit_break": facts.audit_break and vars(facts.audit_break),
        "enrolment_in_progress": facts.journal_open,
        "boot_notes": facts.boot_notes,
        "key_backend": facts.key_backend.value,
        "data_key_backend": facts.data_key_backend.value,
        "sensor_library": {"used": facts.library_used, "capacity": facts.library_capacity},
    }


def _print_status(facts: KitStatus) -> None:
    cards = facts.cards
    lines = [
        f"kit             {facts.kit_id}{'  (DEMO kit)' if facts.demo else ''}",
        f"records sealed  {facts.sealed}",
        f"not collected   {facts.uncollected}",
        f"pruned          {facts.pruned}  (collected, deleted for space)",
        f"last sequence   {facts.last_seq}",
        f"card stock      {cards['stock']}  (loaded {cards['loaded']}, printed {cards['printed']},"
        f" spoiled {cards['spoiled']}, outcome unknown {cards['unresolved']})",
        f"sensor library  {facts.library_used} of {facts.library_capacity} pages"
        " (people enrolled here; the oldest rotate out when full)",
        f"in progress     {'an enrolment can be resumed' if facts.journal_open else 'none'}",
        f"keys            {describe_backend(facts.key_backend)}; data key "
        f"{describe_backend(facts.data_key_backend).removeprefix('kunci: ')}",
    ]
    lines += [f"DAMAGED         {damaged}" for damaged in facts.damaged]
    if facts.audit_break:
        lines.append(
            f"AUDIT BROKEN    entry {facts.audit_break.entry_id} {facts.audit_break.reason}"
        )
    lines += [f"repaired        {note}" for note in facts.boot_notes]
    typer.echo("\n".join(lines))


register_selftest(app)
register_quality(app)


#: What the kit creates is its own: files 0600, folders 0700 (SQLite's WAL, logs, prints).
PRIVATE_UMASK = 0o077


def main() -> None:
    os.umask(PRIVATE_UMASK)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
