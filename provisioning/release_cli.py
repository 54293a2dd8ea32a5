"""The update commands of jemput-prov: `release keygen`, `release build` and `update`.

Why apart from provisioning/cli.py: that file is shared by many hands; it registers these
and shows `status`'s software lines through :func:`software_lines`.  Exit codes as
everywhere: 0 done, 1 refused (by the kit, or a bundle no kit would take), 2 the command
was wrong (a missing folder, a key file others can read, a version that is no version).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.text import Text

from kitlink import messages as m
from kitlink.framing import FramedPort, LinkError
from kitlink.protocol import MessageError
from kitlink.release import RELEASE_KEY_YEARS, ReleaseError, Version, describe
from provisioning import checks
from provisioning import release as releasing
from provisioning import update as updating
from provisioning.columns import NONE_SHOWN
from storage.errors import StorageError
from storage.keys import Authority
from vocabulary import kit_status as words
from vocabulary.language import Language, Words, local_time

EXIT_PROBLEMS = 1
EXIT_USER_ERROR = 2

release_app = typer.Typer(
    help="Release keys the authority certifies, and the bundles `update` sends to kits.",
    no_args_is_help=True,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

AuthorityOption = Annotated[
    Path,
    typer.Option(
        "--authority", help="The authority folder (made by `authority init`).", file_okay=False
    ),
]


def _say(console: Console, message: str, style: str | None = None) -> None:
    console.print(Text(message, style=style or ""), soft_wrap=True)


@contextmanager
def _failures(what: str) -> Iterator[None]:
    """A refusal, a cut cable or a bundle no kit would take: one line, exit 1; a wrong path,
    key file or input: one line, exit 2."""
    try:
        yield
    except (LinkError, ReleaseError) as exc:
        _say(err, f"jemput-prov: {what}: {exc}", "red")
        raise typer.Exit(EXIT_PROBLEMS) from None
    except (OSError, ValueError, StorageError, checks.WrongPath) as exc:
        _say(err, f"jemput-prov: {exc}", "red")
        raise typer.Exit(EXIT_USER_ERROR) from None


def _authority(folder: Path) -> Authority:
    try:
        return checks.load_authority(folder)
    except (OSError, checks.WrongPath) as exc:
        _say(err, f"jemput-prov: {exc}", "red")
        raise typer.Exit(EXIT_USER_ERROR) from None


def _version(text: str | None, option: str) -> Version | None:
    try:
        return None if text is None else Version.parse(text)
    except MessageError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@release_app.command("keygen")
def keygen_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="New folder for the release key.")],
    authority: AuthorityOption,
    name: Annotated[str, typer.Option(help="Who builds with this key, e.g. 'Dukcapil build PC'.")],
    years: Annotated[
        int, typer.Option(help="How long the authority vouches for it.", min=1, max=10)
    ] = RELEASE_KEY_YEARS,
) -> None:
    """Make a release key in DIR (release.key 0600) and have the authority certify it."""
    private = _authority(authority)
    with _failures("no release key made"):
        certificate = releasing.keygen(
            folder, private, name=name, years=years, now=datetime.now(UTC)
        )
    _say(out, f"release key {certificate.name!r} made in {folder}", "green")
    _say(out, f"  kid             {certificate.kid.hex()}")
    _say(out, f"  certified by    {private.public.name!r} until {certificate.not_after:%Y-%m-%d}")
    _say(out, "keep DIR on the machine that builds releases; the authority folder stays offline")


@release_app.command("build")
def build_command(
    key: Annotated[
        Path,
        typer.Option("--key", help="The release key folder (`release keygen`).", file_okay=False),
    ],
    version: Annotated[str, typer.Option(help="The release's version, MAJOR.MINOR.PATCH.")],
    software: Annotated[
        list[Path],
        typer.Option(help="A wheel (.whl) or a folder (pip install --target DIR); repeat it."),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="The bundle to write.", dir_okay=False)],
    pico: Annotated[
        Path | None,
        typer.Option(
            help="The Pico's firmware folder (pico_micropython) to carry.", file_okay=False
        ),
    ] = None,
) -> None:
    """Build a signed release bundle from the software (and the Pico's firmware)."""
    release_version = _version(version, "--version")
    assert release_version is not None
    with _failures("no bundle built"):
        folder = releasing.load_folder(key)
        bundle = releasing.build(
            out_file,
            folder,
            version=release_version,
            software=software,
            pico=pico,
            now=datetime.now(UTC),
        )
    _say(out, f"built {out_file}: {describe(bundle.release)}", "green")
    _say(out, f"  {out_file.stat().st_size} bytes, checked as the authority's kits will check it")


def update_command(
    port: Annotated[str, typer.Argument(metavar="PORT", help="The kit's provisioning port.")],
    authority: AuthorityOption,
    release: Annotated[
        Path, typer.Option("--release", help="The bundle (`release build`).", dir_okay=False)
    ],
    minimum: Annotated[
        str | None,
        typer.Option(help="From now on refuse any software below this version on the kit."),
    ] = None,
    pico_minimum: Annotated[
        str | None,
        typer.Option(help="From now on refuse any Pico firmware below this version."),
    ] = None,
) -> None:
    """Send a release bundle to a kit: it installs it into its other slot and restarts.

    The kit commits the new version once it is ready and has passed its self-test, or
    goes back to the version it ran; `jemput-prov status` tells which.  Refused during an
    enrolment, and for a bundle below the minimum versions.
    """
    floors = _version(minimum, "--minimum"), _version(pico_minimum, "--pico-minimum")
    private = _authority(authority)
    with _failures(f"{release} not sent"):
        bundle = updating.check(release, private, now=datetime.now(UTC))
    _say(out, f"checked {describe(bundle.release)}")
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with (
        _failures(f"{port}: nothing installed"),
        FramedPort(port=port) as link,
        Progress(*columns, console=out, transient=True) as bar,
    ):
        task = bar.add_task("sending", total=bundle.path.stat().st_size)
        installed = updating.send(
            link,
            private,
            bundle.path,
            minimum=floors[0],
            pico_minimum=floors[1],
            progress=lambda sent, _: bar.update(task, completed=sent),
        )
    _say(out, f"installed {installed.version} in slot {installed.slot} on {port}", "green")
    _say(
        out,
        "the kit restarts into it and keeps it once it is ready and passes its self-test "
        "(a minute); run `jemput-prov status` to see it committed or rolled back",
    )


BATTERY = Words("baterai", "battery")
NO_GAUGE = Words("pengukur baterai tidak menjawab", "the fuel gauge did not answer")


def battery_line(battery: m.BatteryStatus | None, language: Language) -> tuple[str, str]:
    """The battery as the kit's fuel gauge read it, for `jemput-prov status`."""
    if battery is None:
        return BATTERY(language), NO_GAUGE(language)
    shown = f"{battery.percent}%  {battery.millivolts} mV  {battery.rate:+d} %/h"
    return BATTERY(language), shown


def software_lines(software: m.SoftwareStatus, language: Language) -> list[tuple[str, str]]:
    """What `jemput-prov status` shows after the kit's records: the software it runs, in
    the reader's language (`vocabulary.kit_status`), the last update's time local."""
    trial = words.ON_TRIAL(language) if software.on_trial else ""
    return [
        (words.SOFTWARE(language), f"{software.version}{trial}"),
        (words.SLOT(language), software.slot.value if software.slot else words.NO_SLOT(language)),
        (words.PICO(language), software.pico_version or words.NO_PICO(language)),
        (words.MINIMUM(language), str(software.minimum) if software.minimum else NONE_SHOWN),
        (words.LAST_UPDATE(language), _last_update(software.last_update, language)),
    ]


def _last_update(report: m.UpdateReport | None, language: Language) -> str:
    if report is None:
        return NONE_SHOWN
    at = local_time(report.at, language)
    if report.outcome is m.UpdateOutcome.COMMITTED:
        note = f" ({report.reason})" if report.reason else ""
        return words.COMMITTED(language).format(version=report.version, at=at) + note
    return words.ROLLED_BACK(language).format(version=report.version, at=at, reason=report.reason)
