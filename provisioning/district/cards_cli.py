"""`jemput-prov district cards ...`: the district's blank cards by serial, on the command line.

Each command audits the store first (a store that fails is refused, exit 1), and a command
the serials' history does not allow (a serial handed out twice, a used card returned) is
one line and exit 1 with nothing signed.  The work is `provisioning.district.cards`'.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from provisioning import checks
from provisioning.district.blank_stock import BadMove
from provisioning.district.cards import CardDesk, Kept, audited, reconciliation
from provisioning.district.cli import (
    EXIT_PROBLEMS,
    EXIT_USER_ERROR,
    AuthorityOption,
    UrlArgument,
    _audit_keys,
    _fail,
    _say,
    _where,
    opened,
    out,
)
from provisioning.district.errors import StoreRefused
from storage.blanks import BadSerialRange, SerialRange
from storage.keys import Authority

cards_app = typer.Typer(
    help="Blank cards by serial: register a batch, hand a range to a kit or an office, "
    "take unused cards back, reconcile every serial.",
    no_args_is_help=True,
)

RangeOption = Annotated[
    str, typer.Option("--range", help="Serials BATCH:FIRST-LAST, e.g. B3505-25A:1-5000.")
]
RegencyOption = Annotated[
    str, typer.Option(help="The regency (kabupaten/kota) code the cards are for, e.g. 3505.")
]


def _range(text: str) -> SerialRange:
    try:
        return SerialRange.parse(text)
    except BadSerialRange as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None


def _keys(authority: Path) -> Authority:
    try:
        return checks.load_authority(authority)
    except (OSError, checks.WrongPath) as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None


def _signed(url: str, authority: Path, work: Callable[[CardDesk], Kept]) -> Kept:
    """``work`` done by the card desk on the store at ``url``: one line per outcome."""
    keys = _keys(authority)
    with opened(url) as store:
        desk = CardDesk(store, keys, where=_where(url))
        try:
            kept = work(desk)
        except (BadMove, StoreRefused) as exc:
            raise _fail(str(exc), EXIT_PROBLEMS) from None
    _say(out, f"{kept.move} (sync log statement {kept.statement})", "green")
    return kept


@cards_app.command("register")
def register_command(
    url: UrlArgument, authority: AuthorityOption, serials: RangeOption, regency: RegencyOption
) -> None:
    """A batch of blank cards arrived at the district: register its serials."""
    chosen = _range(serials)
    _signed(url, authority, lambda desk: desk.register(serials=chosen, regency=regency))


@cards_app.command("assign")
def assign_command(
    url: UrlArgument,
    authority: AuthorityOption,
    holder: Annotated[
        str, typer.Option("--to", help="The kit id, or the office, e.g. DUKCAPIL-3505.")
    ],
    regency: RegencyOption,
    serials: Annotated[
        str | None, typer.Option("--range", help="The serials to hand over.")
    ] = None,
    count: Annotated[int, typer.Option(help="Or: this many, the first free ones.", min=0)] = 0,
) -> None:
    """Hand a range of serials to a kit (then flash it with --cards RANGE) or an office."""
    if (serials is None) == (count == 0):
        raise _fail("give either --range or --count", EXIT_USER_ERROR)
    chosen = None if serials is None else _range(serials)
    kept = _signed(
        url,
        authority,
        lambda desk: desk.assign(holder=holder, regency=regency, serials=chosen, count=count),
    )
    _say(out, f"flash the kit with: --cards {kept.move.range}")


@cards_app.command("return")
def return_command(
    url: UrlArgument,
    authority: AuthorityOption,
    holder: Annotated[str, typer.Option("--from", help="Who gives the cards back.")],
    serials: RangeOption,
    regency: RegencyOption,
) -> None:
    """Unused blank cards come back from a kit or an office to the district."""
    chosen = _range(serials)
    _signed(
        url,
        authority,
        lambda desk: desk.take_back(holder=holder, serials=chosen, regency=regency),
    )


@cards_app.command("reconcile")
def reconcile_command(url: UrlArgument, authority: AuthorityOption) -> None:
    """Every serial of every batch: printed, spoiled, returned or still held; each serial
    seen twice or outside its holder's range named with what to do (exit 1)."""
    public, references = _audit_keys(authority)
    with opened(url) as store:
        try:
            found = reconciliation(audited(store, public, references, where=_where(url)))
        except StoreRefused as exc:
            raise _fail(f"nothing reconciled: {exc}", EXIT_PROBLEMS) from None
    for title, rows in (("batches", found.batches), ("holders", found.holdings)):
        maps = [row.as_map() for row in rows]
        table = Table(title=title, title_justify="left")
        for column in maps[0] if maps else ():
            table.add_column(column)
        for row in maps:
            table.add_row(*(Text(str(value)) for value in row.values()))
        out.print(table)
    for finding in found.findings:
        _say(out, f"{finding.what}", "red")
        _say(out, f"  yang dilakukan: {finding.todo}")
    if found.findings:
        raise typer.Exit(EXIT_PROBLEMS)
    _say(out, f"all {len(found.states)} serial(s) accounted for", "bold green")
