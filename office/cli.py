"""`jemput-prov office ...`: the office desk's commands (docs/office.md).

Why a program of its own, added to jemput-prov through the ``jemput.prov_commands`` entry
point: the desk prints with the kit's card renderer (`capture.card`) and printer driver
(`hal.card_printer`), which the technician's tool may not import; jemput-prov loads this
group only when ``office`` is typed.

Every command that reads the district store audits it first and refuses one that fails
(exit 1); a wrong command, folder, file or port is one line and exit 2; what the desk
cannot do as asked (no blank card left, a card in another state, a printer fault) is one
line, with what to do, and exit 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from hal.card_printer import EvolisPrinter
from hal.exc import DeviceError
from kitlink import messages as m
from kitlink.framing import FramedPort, LinkError
from kitlink.protocol import MessageError
from office import handover_doc
from office.desk import (
    RETURN_AFTER_DAYS,
    DeskError,
    OfficeDesk,
    Survey,
    acknowledge,
    made_batch,
)
from provisioning import checks
from provisioning.collect import connect
from provisioning.district import is_store_url
from provisioning.district.card_states import CardState
from provisioning.district.errors import DistrictError, StoreRefused
from provisioning.district.store import DistrictStore
from provisioning.flash import FlashInputError, load_officers
from provisioning.office_log import OfficeDB, OfficeEntry, OfficeLogError
from storage.files import write_atomic
from storage.handover import seal_batch
from storage.keys import Authority
from storage.officers import check_pin

EXIT_PROBLEMS = 1
EXIT_USER_ERROR = 2
#: Cards per handover request: their names and two templates each stay well under a frame.
CARDS_PER_PART = 100

app = typer.Typer(
    help="The office desk: print the cards the office must print, batch them per village, "
    "hand them to the officials and the kits, take unclaimed ones back (docs/office.md).",
    no_args_is_help=True,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

StoreOption = Annotated[str, typer.Option("--db", help="The district store's URL.")]
OfficeOption = Annotated[
    Path, typer.Option("--office", help="The office desk's file (office init makes it).")
]
AuthorityOption = Annotated[
    Path,
    typer.Option(
        "--authority", help="The authority folder, with its private keys.", file_okay=False
    ),
]
CardOption = Annotated[
    list[str] | None,
    typer.Option("--card", help="A card by its slip reference, JEMPUT:KIT:SEQ (repeatable)."),
]
PrinterOption = Annotated[
    str, typer.Option(help="The office's card printer: a serial port, e.g. /dev/ttyUSB0.")
]


def _say(console: Console, message: str, style: str | None = None) -> None:
    console.print(Text(message, style=style or ""), soft_wrap=True)


def _card_line(done: str, entry: OfficeEntry) -> None:
    """What the desk ``done`` to one card (Indonesian / English): its serial and record."""
    _say(out, f"{done} {entry.serial}: rekaman / record {entry.card.seq if entry.card else '-'}")


def _fail(message: str, code: int) -> typer.Exit:
    _say(err, f"jemput-prov office: {message}", "red")
    return typer.Exit(code)


def _authority(folder: Path) -> Authority:
    try:
        return checks.load_authority(folder)
    except (OSError, checks.WrongPath) as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None


@contextmanager
def _office(path: Path) -> Iterator[OfficeDB]:
    try:
        office = OfficeDB.open(path)
    except FileNotFoundError as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None
    except OfficeLogError as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None
    with office:
        yield office


@contextmanager
def _desk(url: str, office_path: Path, authority: Path) -> Iterator[OfficeDesk]:
    """The desk on the district store at ``url``; every failure one line."""
    keys = _authority(authority)
    if not is_store_url(url):
        raise _fail(
            f"{url} bukan URL basis data / is not a database URL: give the district store's",
            EXIT_USER_ERROR,
        )
    try:
        store = DistrictStore.open(url)
    except (DistrictError, SQLAlchemyError) as exc:
        raise _fail(str(exc).splitlines()[0], EXIT_USER_ERROR) from None
    with store, _office(office_path) as office:
        try:
            yield OfficeDesk(store, office, keys, where=url.split("?")[0])
        except (DeskError, StoreRefused, OfficeLogError) as exc:
            raise _fail(str(exc), EXIT_PROBLEMS) from None
        except (DeviceError, LinkError, MessageError) as exc:
            raise _fail(str(exc), EXIT_PROBLEMS) from None


@app.command("init")
def init_command(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The new office file.")],
    office: Annotated[str, typer.Option(help="The office's name, e.g. DUKCAPIL-3505.")],
    regency: Annotated[str, typer.Option(help="Its regency code, e.g. 3505.")],
) -> None:
    """Make the office desk's file: its name, its regency, and its empty signed ledger."""
    try:
        OfficeDB.create(path, office=office, regency=regency).close()
    except FileExistsError:
        raise _fail(
            f"{path} sudah ada / exists: the office keeps one file", EXIT_USER_ERROR
        ) from None
    except (OSError, ValueError) as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None
    _say(out, f"meja kantor {office} ({regency}) siap di {path} / office ready", "green")


@app.command("list")
def list_command(db: StoreOption, office: OfficeOption, authority: AuthorityOption) -> None:
    """Every card the office handles, by state, with why it waits and its batch."""
    with _desk(db, office, authority) as desk, desk.survey() as survey:
        _show(survey)


def _show(survey: Survey) -> None:
    table = Table(title="kartu / cards", title_justify="left")
    for column in (
        "slip",
        "status / state",
        "alasan / why",
        "nomor seri / serial",
        "batch",
        "desa / village",
    ):
        table.add_column(column)
    for slip, card in sorted(survey.by_slip.items()):
        status = survey.status(card.card)
        if status.state is CardState.PRINTED_ON_SITE:
            continue
        cells = (
            slip,
            status.state.value,
            status.reason.value if status.reason else "-",
            status.serial or "-",
            status.batch or "-",
            card.village,
        )
        table.add_row(*(Text(cell) for cell in cells))
    out.print(table)
    for finding in survey.day.book.findings:
        _say(out, finding.what, "red")
        _say(out, f"  yang dilakukan: {finding.todo}")


@app.command("print")
def print_command(
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    printer: PrinterOption,
    card: CardOption = None,
) -> None:
    """Print the cards waiting for the office (or those named) on the office's printer."""
    with (
        _desk(db, office, authority) as desk,
        desk.survey() as survey,
        _printer(printer) as device,
    ):
        cards = survey.opened(desk.chosen(survey, card or [], CardState.WAITING))
        for entry in desk.print_cards(survey, cards, device):
            _card_line("dicetak / printed", entry)
    _say(out, f"{len(cards)} kartu dicetak / card(s) printed", "green")


@contextmanager
def _printer(port: str) -> Iterator[EvolisPrinter]:
    try:
        device = EvolisPrinter(port=port)
    except DeviceError as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None
    with device:
        yield device


@app.command("reprint")
def reprint_command(
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    printer: PrinterOption,
    card: Annotated[list[str], typer.Option("--card", help="The card's slip reference.")],
    reason: Annotated[str, typer.Option(help="Why it is printed again.")],
) -> None:
    """Print a card again on a new blank card (the first one spoiled, lost, or wrong)."""
    with (
        _desk(db, office, authority) as desk,
        desk.survey() as survey,
        _printer(printer) as device,
    ):
        states = (CardState.WAITING, CardState.PRINTED_AT_OFFICE, CardState.RETURNED)
        cards = survey.opened(desk.chosen(survey, card, *states))
        for entry in desk.print_cards(survey, cards, device, reason=reason):
            _card_line("dicetak ulang / reprinted", entry)


@app.command("spoil")
def spoil_command(
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    serial: Annotated[str, typer.Option(help="The spoiled card's serial.")],
    reason: Annotated[str, typer.Option(help="What happened to it.")],
) -> None:
    """A blank or printed card of the office is spoiled: its serial is used up."""
    with _desk(db, office, authority) as desk, desk.survey() as survey:
        desk.spoil(survey, serial, reason)
    _say(out, f"nomor seri {serial} rusak / spoiled: {reason}", "green")


@app.command("batch")
def batch_command(
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    village: Annotated[str, typer.Option(help="The village (kelurahan/desa), as on the cards.")],
) -> None:
    """Put every card printed at the office for a village into one batch for its official."""
    with _desk(db, office, authority) as desk, desk.survey() as survey:
        entry = desk.batch(survey, village)
    _say(out, f"batch {entry.batch}: {len(entry.cards)} kartu {village} / card(s)", "green")


@app.command("document")
def document_command(
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    batch: Annotated[str, typer.Option(help="The batch, as office batch named it.")],
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
) -> None:
    """Write the batch's handover document (berita acara serah terima), to print."""
    with _desk(db, office, authority) as desk, desk.survey() as survey:
        made = made_batch(desk.office, desk.authority, batch)
        cards = survey.opened([survey.by_ref[c.card] for c in made.cards])
        regency = cards[0].enrolment.resident.regency if cards else desk.office.regency
        page = handover_doc.render(made, cards, regency=regency, on=made.at.date())
    write_atomic(output, page.encode("utf-8"), replace=True)  # names: 0600
    _say(out, f"berita acara ditulis / written: {output}", "green")


@app.command("acknowledge")
def acknowledge_command(
    office: OfficeOption,
    authority: AuthorityOption,
    batch: Annotated[str, typer.Option(help="The batch the official takes.")],
    official: Annotated[str, typer.Option(help="The village official's id, as in the CSV.")],
    officers: Annotated[Path, typer.Option(help="The officers CSV the kits were flashed with.")],
    missing: Annotated[
        list[str] | None,
        typer.Option("--missing", help="The serial of a card missing from the batch (repeatable)."),
    ] = None,
    pin: Annotated[
        str, typer.Option(prompt="PIN pejabat desa", hide_input=True, help="Typed by the official.")
    ] = "",
) -> None:
    """The village official takes a batch at the office, with their PIN; name each card
    missing from it by its serial with --missing."""
    keys = _authority(authority)
    try:
        staff = {o.officer_id: o for o in load_officers(officers)}
    except (OSError, FlashInputError) as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None
    person = staff.get(official)
    if person is None or not person.is_official:
        raise _fail(
            f"{official} bukan pejabat desa dalam / is no village official in {officers}",
            EXIT_USER_ERROR,
        )
    if not check_pin(person, pin):
        raise _fail(
            f"PIN salah untuk {person.name}, tidak dicatat / wrong PIN: nothing recorded",
            EXIT_PROBLEMS,
        )
    with _office(office) as file:
        try:
            entry = acknowledge(file, keys, batch, official, missing or [], at=datetime.now(UTC))
        except (DeskError, OfficeLogError) as exc:
            raise _fail(str(exc), EXIT_PROBLEMS) from None
    _say(out, f"batch {batch} diterima oleh / taken by {person.name}", "green")
    for card in entry.missing:
        absent = "tidak ada dalam batch / missing from the batch"
        _say(out, f"{absent}: rekaman / record {card.seq}", "red")


@app.command("send")
def send_command(
    port: Annotated[str, typer.Argument(help="The kit's provisioning port.")],
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    batch: Annotated[str, typer.Option(help="The batch whose residents come to this kit.")],
) -> None:
    """Send a batch's cards (names, serials, each resident's templates) to a kit, signed and
    encrypted to that kit alone, so residents take their cards there, confirmed 1:1."""
    with _desk(db, office, authority) as desk, desk.survey() as survey:
        whole = desk.handover_batch(survey, batch)
        with FramedPort(port=port) as link:
            client, hello, _ = connect(link, desk.authority)
            for first in range(0, max(len(whole.cards), 1), CARDS_PER_PART):
                part = replace(whole, cards=whole.cards[first : first + CARDS_PER_PART])
                key = client.call(m.HandoverKeyArgs()).result.public
                sealed = seal_batch(part, key, kit_id=hello.kit_id or "")
                held = client.call(m.HandoverArgs(sealed)).result
    holds = f"kit {hello.kit_id} memegang / holds batch {held.batch}"
    _say(out, f"{holds}: {held.cards} kartu / card(s)", "green")


@app.command("return")
def return_command(
    db: StoreOption,
    office: OfficeOption,
    authority: AuthorityOption,
    days: Annotated[
        int, typer.Option("--after-days", help="Days a card waits with the official.", min=1)
    ] = RETURN_AFTER_DAYS,
) -> None:
    """Cards handed to officials and not taken within the days set come back as returned."""
    with _desk(db, office, authority) as desk, desk.survey() as survey:
        back = desk.return_unclaimed(survey, days=days)
    for entry in back:
        _card_line("dikembalikan / returned", entry)
    _say(out, f"{len(back)} kartu dikembalikan / card(s) returned", "green")
