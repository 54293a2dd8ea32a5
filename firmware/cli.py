"""``jemput-kit``: the kit's program: run it, test its parts, read its status.

On a Pi the kit starts with ``jemput-kit run`` from its systemd unit.  Other programs
installed beside it add command groups through the ``jemput.kit_commands`` entry point
(the simulator's ``jemput-kit sim ...``); each is imported only when its name is typed, so
the Pi program never loads the simulator or its web server.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from capture.prompts import Language
from firmware.config import Backend, ConfigError, KitConfig, load_config, prepare_data_dir
from firmware.logs import setup_logging
from firmware.quality_cli import register as register_quality
from firmware.selftest import register as register_selftest
from firmware.slots import Slots, SlotsError
from storage.errors import StorageError
from storage.kit import KitStatus, KitStore, NotProvisioned
from storage.lock import FolderBusy
from vocabulary import kit_status as words
from vocabulary.language import LANGUAGE_ENV, count

#: The entry-point group through which other programs add their commands to jemput-kit.
COMMAND_GROUPS = "jemput.kit_commands"


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"jemput-kit: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


class KitCommands(TyperGroup):
    """jemput-kit's own commands, and the groups other installed programs add, loaded late.

    The context and command types are typer's own (it carries its own click), so the two
    overrides take and give them as typer hands them over.
    """

    @staticmethod
    def _plugins() -> dict[str, EntryPoint]:
        return {entry.name: entry for entry in entry_points(group=COMMAND_GROUPS)}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *sorted(self._plugins())]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        plugin = self._plugins().get(cmd_name)
        if found is not None or plugin is None:
            return found
        try:
            group = plugin.load()
        except ImportError as exc:
            raise fail(
                f"`{cmd_name}` needs packages that are not installed here ({exc.name}): "
                f"install them with pip install '.[{cmd_name}]'"
            ) from exc
        command = typer.main.get_command(group)
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=KitCommands,
    help="Jemput kit: e-KTP enrolment (run, status, selftest; sim: the simulated kit).",
    no_args_is_help=True,
    add_completion=False,
)

DataDir = Annotated[Path, typer.Option("--data-dir", help="The kit's data folder.")]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="Kit configuration (TOML); see docs/config.md.")
]


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
    config: ConfigFile = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="The kit's data folder [default: var/kit].")
    ] = None,
    language: Annotated[Language | None, typer.Option(help="Prompt language.")] = None,
) -> None:
    """Run the kit on its real parts, as its systemd unit does (backend "pi" in --config).

    On a laptop without a kit, the simulated kit is ``jemput-kit sim web`` (or ``sim
    terminal``, ``sim headless``).
    """
    settings = _config(config, data_dir=data_dir, language=language)
    if settings.backend is not Backend.PI:
        raise fail(
            f'{config or "(defaults)"}: [kit] backend is "{settings.backend.value}", not "pi": '
            'on a Raspberry Pi set backend = "pi" (docs/config.md); without a kit, run the '
            "simulated one with `jemput-kit sim web` (or `make run`)"
        )
    setup_logging(settings.data_dir, level=settings.log_level)
    from firmware.pi import run_pi

    try:
        ended = run_pi(settings)
    except FolderBusy as exc:
        raise fail(str(exc), 1) from exc
    except StorageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"jemput-kit: stopped in {ended}")


@app.command()
def status(
    data_dir: DataDir = Path("var/kit"),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    language: Annotated[
        Language,
        typer.Option(
            "--language",
            envvar=LANGUAGE_ENV,
            help="id: Bahasa Indonesia, en: English (the JSON's keys stay the same).",
        ),
    ] = Language.ID,
) -> None:
    """Records sealed, not yet collected, last record, card stock, the kit's clock, damage."""
    now = datetime.now(UTC)
    try:
        store = KitStore(data_dir, now=lambda: now, verify_files=True)
    except NotProvisioned as exc:
        raise fail(str(exc)) from exc
    except StorageError as exc:
        raise fail(str(exc), 1) from exc
    with contextlib.closing(store):
        facts = store.status()
    if as_json:
        typer.echo(json.dumps(_status_map(facts), indent=2))
    else:
        typer.echo(_status_text(facts, now, language))
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


def _status_text(facts: KitStatus, now: datetime, language: Language) -> str:
    """The lines `jemput-prov status` shows too (`vocabulary.kit_status`), then what only
    the kit knows: records pruned, the sensor library, its keys, repairs at boot."""
    broken = facts.audit_break
    keys = {
        name: words.BACKENDS[backend.value](language)
        for name, backend in (("kit", facts.key_backend), ("data", facts.data_key_backend))
    }
    lines = [
        *words.status_lines(
            language,
            kit_id=facts.kit_id,
            demo=facts.demo,
            sealed=facts.sealed,
            uncollected=facts.uncollected,
            last_seq=facts.last_seq,
            cards=facts.cards,
            journal_open=facts.journal_open,
            clock=now,
        ),
        (
            words.PRUNED(language),
            words.PRUNED_WHY(language).format(n=count(facts.pruned, language)),
        ),
        (
            words.LIBRARY(language),
            words.LIBRARY_DETAIL(language).format(
                used=count(facts.library_used, language),
                capacity=count(facts.library_capacity, language),
            ),
        ),
        (words.KEYS(language), words.KEYS_DETAIL(language).format(**keys)),
        *words.problem_lines(
            language,
            damaged=facts.damaged,
            audit_break=f"entry {broken.entry_id} {broken.reason}" if broken else None,
        ),
        *((words.REPAIRED(language), note) for note in facts.boot_notes),
    ]
    return words.aligned(lines)


@app.command()
def prestart(
    config: ConfigFile = None,
    slots: Annotated[
        Path | None, typer.Option("--slots", help="The slots' folder [default: [kit] slots].")
    ] = None,
) -> None:
    """Before the kit starts (systemd's ExecStartPre, from the committed slot): start the
    version on trial, or roll it back once it has had its starts (docs/updates.md)."""
    try:
        root = slots or load_config(config).slots
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    try:
        chosen = Slots(root).prestart(now=datetime.now(UTC))
    except SlotsError as exc:  # the kit still starts: what `current` leads to, as it is
        typer.secho(f"jemput-kit: {exc}", fg=typer.colors.RED, err=True)
        return
    state = Slots(root).state()
    if chosen is None or state is None:
        typer.echo(f"jemput-kit: {root} holds no slots: the kit starts as installed")
        return
    version = Slots(root).version(chosen) or "installed by hand"
    trial = f", on trial ({state.starts_left} start(s) left)" if state.trying else ""
    typer.echo(f"jemput-kit: starting slot {chosen} ({version}{trial})")
    if state.last is not None and state.trying is None:
        typer.echo(f"jemput-kit: last update {state.last.version}: {state.last.outcome}")


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
