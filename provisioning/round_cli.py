"""`jemput-prov round check|plan|load`: the office plans a round and loads it onto a kit.

Why a module of its own: provisioning/cli.py is the laptop's tool, shared by many hands;
the round commands only need the district store's helpers (`provisioning.district.cli`)
and the round's steps (`provisioning.rounds`).  Exit codes as everywhere: 0 done, 1 a
problem found (a bad list line, a store failing its audit, a kit refusing), 2 the command
was wrong (a missing file or folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kitlink.framing import FramedPort, LinkError
from provisioning import checks
from provisioning.district.cli import opened
from provisioning.district.errors import StoreRefused
from provisioning.district.rounds import ListCheck, check_list
from provisioning.round_list import RoundListError, load_round_list
from provisioning.rounds import (
    PlanInputError,
    load_plan,
    load_round,
    plan_round,
    read_round_file,
    write_round,
)
from storage.errors import RecordError, StorageError
from storage.keys import Authority

EXIT_PROBLEMS = 1
EXIT_USER_ERROR = 2

round_app = typer.Typer(
    help="Rounds: an institution's request planned, its list checked, the round on a kit.",
    no_args_is_help=True,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

PlanArgument = Annotated[Path, typer.Argument(metavar="PLAN", help="The round's plan (TOML).")]
AuthorityOption = Annotated[
    Path,
    typer.Option("--authority", help="The authority folder (its private keys).", file_okay=False),
]
DbOption = Annotated[str, typer.Option("--db", help="The district store's URL.")]


def _say(console: Console, message: str, style: str | None = None) -> None:
    console.print(Text(message, style=style or ""), soft_wrap=True)


@contextmanager
def _problems(what: str) -> Iterator[None]:
    """A problem found is one line and exit 1; a wrong path or key file one line, exit 2."""
    try:
        yield
    except (RoundListError, PlanInputError, StoreRefused, RecordError, LinkError) as exc:
        _say(err, f"jemput-prov: {what}: {exc}", "red")
        raise typer.Exit(EXIT_PROBLEMS) from None
    except (OSError, checks.WrongPath) as exc:
        _say(err, f"jemput-prov: {exc}", "red")
        raise typer.Exit(EXIT_USER_ERROR) from None
    except StorageError as exc:
        _say(err, f"jemput-prov: {what}: {exc}", "red")
        raise typer.Exit(EXIT_PROBLEMS) from None


def _authority(folder: Path) -> Authority:
    with _problems("nothing planned"):
        return checks.load_authority(folder)


#: A line under 17 on the election day whose marriage, which would make them a voter, the
#: list does not give.
UNKNOWN_MARRIAGE = "pemula jika kawin: status kawin tak ada / first vote if married: not known"


def show_check(check: ListCheck) -> None:
    """The list as checked: each line's status, then the counts (Bahasa, English beside)."""
    table = Table(title="daftar / list", title_justify="left")
    for column in ("baris", "nomor", "nama", "lahir", "NIK", "status"):
        table.add_column(column)
    for checked in check.lines:
        line = checked.line
        status = [
            "sudah direkam / recorded" if checked.recorded else "",
            "tanpa NIK: walk-in" if line.nik is None else "",
            "pemilih pemula / first-time voter" if checked.first_voter else "",
            UNKNOWN_MARRIAGE if checked.first_voter is None else "",
        ]
        table.add_row(
            str(line.line),
            line.number or "-",
            line.name,
            line.birth_date.strftime("%d-%m-%Y"),
            "ada" if line.nik else "-",
            "; ".join(part for part in status if part) or "ke kit / to the kit",
        )
    out.print(table)
    _say(out, f"  ke kit / to the kit          {len(check.people)}")
    _say(out, f"  sudah direkam, ditinggalkan  {check.recorded} (already recorded: left out)")
    _say(out, f"  tanpa NIK                    {check.no_nik} (no NIK: walk-ins at the round)")
    _say(out, f"  pemilih pemula               {check.first_voters} (first-time voters, to record)")
    if check.marriage_unknown:
        _say(
            out,
            f"  status kawin tak diketahui   {check.marriage_unknown} (under 17 on the election "
            "day, a first-time voter if married: the list has no status_perkawinan)",
        )


@round_app.command("check")
def check_command(plan: PlanArgument, db: DbOption, authority: AuthorityOption) -> None:
    """Check a round's list against the district store: nothing is registered."""
    keys = _authority(authority)
    with _problems("nothing checked"), opened(db) as store:
        planned = load_plan(plan)
        lines = () if planned.list_path is None else load_round_list(planned.list_path)
        check = check_list(
            store,
            keys.public,
            keys.references,
            lines,
            election_day=planned.round.election_day,
            where=db.split("?")[0],
        )
    show_check(check)


@round_app.command("plan")
def plan_command(
    plan: PlanArgument,
    db: DbOption,
    authority: AuthorityOption,
    out_file: Annotated[
        Path, typer.Option("--out", help="The round's file to write (for `round load`).")
    ],
) -> None:
    """Plan a round: its list checked, the plan signed and registered, its file written."""
    keys = _authority(authority)
    with _problems("nothing planned"), opened(db) as store:
        planned = plan_round(store, keys, load_plan(plan), where=db.split("?")[0])
        write_round(out_file, planned.loaded)
    show_check(planned.check)
    code = planned.loaded.plan.code
    said = "planned" if planned.new else "already planned, as this plan"
    _say(out, f"round {code} {said}: {len(planned.loaded.people)} on the kit's list", "green")
    _say(out, f"wrote {out_file} (mode 0600: names and NIKs); load it with jemput-prov round load")


@round_app.command("load")
def load_command(
    port: Annotated[str, typer.Argument(metavar="PORT", help="The kit's provisioning port.")],
    round_file: Annotated[Path, typer.Option("--round", help="The round's file (round plan).")],
    authority: AuthorityOption,
) -> None:
    """Load the next round onto a kit, keeping its chain; the officer logs in again."""
    keys = _authority(authority)
    with _problems("round not loaded"):
        loaded = read_round_file(round_file, keys)
        with FramedPort(port=port) as link:
            result = load_round(link, keys, loaded)
    _say(out, f"kit on {port} now records round {result.code} ({result.people} listed)", "green")
