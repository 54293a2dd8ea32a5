"""`jemput-prov`: the authority's tool for keys, kits' records and worklists.

Why the exit codes matter: scripts at the regency office run `verify` after every
collection, so 0 means every record verified, 1 means a record has a problem (each named
with its file and why), and 2 means the command itself was wrong (a missing folder, a
key file others can read) and nothing was checked.  User errors print one line, never a
traceback; tracebacks never show local variables, which could hold private keys.
"""

from __future__ import annotations

import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from kitlink.framing import LinkError
from provisioning import checks, release_cli
from provisioning import collect as collecting
from provisioning import flash as flashing
from provisioning.collector import CollectorDB, CollectorError
from provisioning.collector_audit import (
    DatabaseAudit,
    DatabaseRefused,
    audit_database,
    problems_by_row,
)
from provisioning.columns import DESA, KABKOTA, KECAMATAN, NO_HEAD
from provisioning.district import cards_cli, is_store_url
from provisioning.district import cli as district
from provisioning.interchange.errors import BadAgency, CodecMissing
from provisioning.interchange.export import Format, source_name
from provisioning.interchange.export import export as export_interchange
from provisioning.interchange.nist import DEFAULT_DAI, Agencies
from provisioning.interchange.source import StoredChain, collector_chains, district_chains
from provisioning.office_report import build_office_report
from provisioning.office_report import to_json as office_json
from provisioning.office_report import to_text as office_text
from provisioning.progress import RECORDS, RESIDENTS, KitProgress, WatchedPort
from provisioning.report import READ_TABLE, build_report, read_rows, to_csv, to_json
from provisioning.round_cli import round_app
from provisioning.rounds import load_round, read_round_file
from storage import revocation
from storage.blanks import BadSerialRange, SerialRange
from storage.certificate import BadKitId, check_kit_id
from storage.errors import RecordError, StorageError, WriteError
from storage.keys import (
    AUTHORITY_PUBLIC_FILE,
    ENCRYPTION_KEY_FILE,
    SIGNING_KEY_FILE,
    Authority,
    KeyBackend,
    kid_of,
)
from storage.model import Enrolment
from storage.policy import PolicyError
from storage.provision import KitSetup
from storage.record import RecordHeader
from storage.reference import REFERENCE_KEY_FILE, ReferenceKey
from storage.worklist import WorklistError, load_worklist
from vocabulary import kit_status
from vocabulary.language import Language, Words, count, local_time

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USER_ERROR = 2

#: The entry-point group through which other programs add their commands to jemput-prov.
COMMAND_GROUPS = "jemput.prov_commands"


class ProvCommands(TyperGroup):
    """jemput-prov's own commands, and the groups other installed programs add (the office
    desk's `office`, which prints with the kit's renderer and driver, which this tool may
    not import), each loaded only when its name is typed."""

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
        command = typer.main.get_command(plugin.load())
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=ProvCommands,
    name="jemput-prov",
    help="Jemput provisioning: the authority's keys, kits' records and worklists.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)
authority_app = typer.Typer(help="Create the authority's keys.", no_args_is_help=True)
worklist_app = typer.Typer(help="Check village worklists before they go on a kit.")
app.add_typer(authority_app, name="authority")
app.add_typer(worklist_app, name="worklist")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

AuthorityOption = Annotated[
    Path,
    typer.Option(
        "--authority",
        help="The authority folder (made by `authority init`).",
        file_okay=False,
    ),
]


def _say(console: Console, message: str, style: str | None = None) -> None:
    """Print text as it is: no markup, no wrapping (paths stay whole for grep and tests)."""
    console.print(Text(message, style=style or ""), soft_wrap=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """A wrong path or key file is the user's to fix: one line on stderr, exit 2."""
    try:
        yield
    except (OSError, checks.WrongPath) as exc:  # KeyFileError is an OSError
        _say(err, f"jemput-prov: {exc}", "red")
        raise typer.Exit(EXIT_USER_ERROR) from None


def _mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


def _show(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print a table; cells as plain text, None as "-"."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for cells in rows:
        table.add_row(*(Text("-" if cell is None else str(cell)) for cell in cells))
    out.print(table)


@contextmanager
def _problems(what: object, *kinds: type[Exception], named: bool = False) -> Iterator[None]:
    """User errors exit 2 (`_user_errors`); ``kinds`` are problems: one line naming
    ``what`` (with the exception's type when ``named``), exit 1."""
    try:
        yield
    except kinds as exc:  # before OSError: a link timeout or a cut cable is a problem, exit 1
        reason = f"{type(exc).__name__}: {exc}" if named else str(exc)
        _say(err, f"jemput-prov: {what}: {reason}", "red")
        raise typer.Exit(EXIT_PROBLEMS) from None
    except (OSError, checks.WrongPath) as exc:
        _say(err, f"jemput-prov: {exc}", "red")
        raise typer.Exit(EXIT_USER_ERROR) from None


def _private_keys(folder: Path) -> Authority:
    """The authority's private keys, or one line and exit 2."""
    with _user_errors():
        return checks.load_authority(folder)


@contextmanager
def _collector(db: Path) -> Iterator[CollectorDB]:
    """An existing collector database (call inside `_user_errors`)."""
    if not db.is_file():
        raise checks.WrongPath(f"collector database {db} does not exist: run collect first")
    try:
        store = CollectorDB(db)
    except sqlite3.DatabaseError as exc:
        raise checks.WrongPath(
            f"{db} is not a collector database ({exc}): give the file `jemput-prov collect` made"
        ) from None
    with store:
        yield store


@authority_app.command("init")
def authority_init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="New or empty folder.")],
    name: Annotated[
        str | None, typer.Option(help="Authority name shown in errors (default: DIR's name).")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Mark the authority as a demo one.")] = False,
) -> None:
    """Create the authority's signing and decryption keys in DIR (private keys 0600)."""
    with _user_errors():
        authority = Authority.init(directory, name=name or directory.resolve().name, demo=demo)
        public = authority.public
        _say(out, f"authority {public.name!r}{' (DEMO)' if demo else ''} created in {directory}")
        _say(out, f"  kid             {public.kid.hex()}")
        for label, file in (
            ("signing key", SIGNING_KEY_FILE),
            ("decryption key", ENCRYPTION_KEY_FILE),
            ("reference key", REFERENCE_KEY_FILE),
        ):
            _say(out, f"  {label:<15} {directory / file} (mode {_mode(directory / file)})")
        _say(out, f"  public keys     {directory / AUTHORITY_PUBLIC_FILE} (give it to kits)")
    _say(
        out,
        f"WARNING: the private keys must stay offline: keep {directory} on an offline "
        "machine or removable media, never on a kit or a networked computer.",
        "bold yellow",
    )


@authority_app.command("reference-key")
def authority_reference_key(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The authority folder.")],
) -> None:
    """Make the reference key (reference.key, 0600) of an authority made before keyed
    references; never replaces one.  Flash every kit again afterwards."""
    with _user_errors():
        checks.load_authority_public(directory)  # an authority folder, or one line and exit 2
        ReferenceKey.create(directory)
        path = directory / REFERENCE_KEY_FILE
        _say(out, f"reference key made: {path} (mode {_mode(path)})")
    _say(
        out,
        "Flash every kit of this authority again (jemput-prov flash): only kits flashed from "
        "now on name residents by keyed references.",
        "bold yellow",
    )


def _gaps(gaps: list[tuple[int, int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps) or "none"


@app.command("verify")
def verify(
    authority: AuthorityOption,
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH", help="A record file, a kit's records folder or data folder, or kits'."
        ),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--db", help="Instead of PATH: an office store's URL.")
    ] = None,
) -> None:
    """Verify kits' records against the authority: certificate, signatures, chain, gaps.

    Exits 0 when everything verifies, 1 when any record has a problem (each one named
    with its file and why), 2 when PATH or the authority folder is wrong.  A district
    store's every row is derived again from its signed bytes (docs/district.md).
    """
    if store is not None:
        district.verify(store, authority)
        return
    with _user_errors():
        public = checks.load_authority_public(authority)
        audit = None
        if path is None:
            raise checks.WrongPath("give PATH, or --db with an office store's URL")
        elif path.suffix == checks.COLLECTOR_SUFFIX and path.is_file():
            with _collector(path) as db:
                audit = audit_database(db, public)
            reports = audit.kits
        else:
            reports = checks.verify_path(path, public)
    demo = "DEMO " if public.demo else ""
    _show(
        f"{demo}authority {public.name!r}, kid {public.kid.hex()}",
        ("kit", "records", "first", "last", "gaps", "problems", "folder"),
        (
            (
                r.chain.kit_id,
                r.chain.count,
                r.chain.first,
                r.chain.last,
                _gaps(r.chain.gaps),
                len(r.chain.problems),
                r.folder,
            )
            for r in reports
        ),
    )
    if public.demo:
        _say(out, "DEMO authority: these records are not real enrolments.", "bold yellow")
    if audit is not None:
        _database_verdict(audit)
        return
    problems = [problem for report in reports for problem in report.problems]
    for file, exc in problems:
        _say(out, f"{file}: {type(exc).__name__}: {exc}", "red")
    if problems:
        _say(out, f"{len(problems)} problem(s) in {len(reports)} kit(s)", "bold red")
        raise typer.Exit(EXIT_PROBLEMS)
    records = sum(report.chain.count for report in reports)
    _say(out, f"all {records} record(s) of {len(reports)} kit(s) verify", "bold green")


COLLECTOR_LOG = Words(
    "log pengumpul: {length} pengambilan, terakhir {head}",
    "collector log: {length} collection(s), head {head}",
)


def _log_line(audit: DatabaseAudit, language: Language) -> str:
    """The collector log's length and head, to compare with a report sent before."""
    head = audit.log_head.hex()[:16] if audit.log_head else NO_HEAD(language)
    return COLLECTOR_LOG(language).format(length=count(audit.log_length, language), head=head)


def _database_verdict(audit: DatabaseAudit) -> None:
    """A collector database's problems, one line per table row; exit 1 if any."""
    for line in problems_by_row(audit):
        _say(out, line, "red")
    for note in audit.uncovered:
        _say(out, f"{audit.path}: {note}", "yellow")
    _say(out, _log_line(audit, Language.EN))  # verify speaks English (docs/provisioning.md)
    if audit.problems:
        _say(out, f"{len(audit.problems)} problem(s) in {audit.path}", "bold red")
        raise typer.Exit(EXIT_PROBLEMS)
    _say(
        out,
        f"all {len(audit.records)} record(s) of {len(audit.kits)} kit(s) verify",
        "bold green",
    )


Fields = list[tuple[str, object]]


def _header_fields(header: RecordHeader) -> Fields:
    return [
        ("kit", header.kit_id),
        ("seq", header.seq),
        ("sealed at", header.sealed_at.isoformat()),
        ("officer", header.officer_id),
        ("worklist ref", _reference(header)),
        ("captured", ", ".join(m.value for m in header.captured) or "nothing"),
        ("print card", "yes" if header.print_card else "no"),
    ]


def _reference(header: RecordHeader) -> str:
    """How `open` names the header's reference: a version-3 header holds a keyed one only."""
    if header.keyed_ref is not None:
        return f"keyed {header.keyed_ref.hex()[:16]}"
    return header.worklist_ref or "none"


def _body_fields(enrolment: Enrolment) -> Fields:
    resident = enrolment.resident
    rt_rw = f"RT/RW {resident.rt_rw}" if resident.rt_rw else ""
    place = (resident.village, resident.district, resident.regency, resident.province)
    face = enrolment.face_jpeg
    strokes = enrolment.signature_strokes
    points = sum(len(stroke) for stroke in strokes)
    fields: Fields = [
        ("NIK", resident.nik),
        ("name", resident.name),
        ("sex", resident.sex.value),
        ("born", f"{resident.birth_place}, {resident.birth_date.isoformat()}"),
        ("address", " ".join(part for part in (resident.address, rt_rw) if part)),
        ("village", ", ".join(part for part in place if part)),
        ("religion", resident.religion),
        ("marital status", resident.marital_status),
        ("occupation", resident.occupation),
        ("blood type", resident.blood_type),
        ("citizenship", resident.citizenship),
        ("started at", enrolment.started_at.isoformat()),
        ("face", f"JPEG, {len(face)} bytes" if face is not None else "none"),
        ("signature", f"{len(strokes)} stroke(s), {points} point(s)"),
    ]
    if enrolment.voids is not None:
        fields.append(("voids", f"record {enrolment.voids}: {enrolment.void_reason}"))
    fields.append(("approvals", ", ".join(enrolment.approvals) or "none"))
    return fields


def _finger_rows(enrolment: Enrolment) -> Iterator[tuple[object, ...]]:
    for finger in enrolment.fingers:
        if finger.exception is None:
            result = f"quality {finger.quality}"
        else:
            result = f"exception: {finger.exception}, approved by {finger.approved_by or '-'}"
        yield finger.position, checks.position_name(finger.position), result


@app.command("open")
def open_command(
    record: Annotated[
        Path,
        typer.Argument(
            metavar="RECORD", help="A record file (.cose), or a collector database.", dir_okay=False
        ),
    ],
    authority: AuthorityOption,
    kit: Annotated[str | None, typer.Option(help="With a database: the kit id.")] = None,
    seq: Annotated[int | None, typer.Option(help="With a database: the record's seq.")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write face.jpg, finger-N.png (N: finger position), signature.png here."
        ),
    ] = None,
) -> None:
    """Decrypt a record with the authority's private key and show what it holds.

    With a kit.cert beside the record its signature is checked first.  Exits 1 when the
    record does not verify or its body does not open.
    """
    private = _private_keys(authority)
    with _problems(record, RecordError, CollectorError, named=True):
        if record.suffix == checks.COLLECTOR_SUFFIX:
            if kit is None or seq is None:
                raise checks.WrongPath(f"{record} is a collector database: give --kit and --seq")
            with _collector(record) as db:
                opened = db.open_record(kit, seq, private)
        else:
            opened = checks.open_record_file(record, private)
    fields = [*_header_fields(opened.header), *_body_fields(opened.enrolment)]
    _show(f"record {record}", ("field", "value"), fields)
    _show("fingers", ("pos", "finger", "quality or exception"), _finger_rows(opened.enrolment))
    if opened.signed_by is None:
        _say(out, "signature NOT checked: no kit.cert beside the record", "bold yellow")
    else:
        _say(out, f"signature verified: kit {opened.signed_by}", "green")
    if out_dir is not None:
        with _user_errors():
            written = checks.export_images(opened.enrolment, out_dir)
        for path in written:
            _say(out, f"wrote {path}")


PER_VILLAGE = Words("per kelurahan/desa", "per kelurahan/desa")
RESIDENT_COUNT = Words("penduduk", "residents")


@worklist_app.command("check")
def worklist_check(
    csv_path: Annotated[
        Path, typer.Argument(metavar="CSV", help="The worklist exported as CSV.", dir_okay=False)
    ],
    language: district.LanguageOption = Language.ID,
) -> None:
    """Check a worklist CSV as a kit would load it; list every problem (exit 1) or a summary."""
    try:
        with _user_errors():
            residents = load_worklist(csv_path)
    except WorklistError as exc:
        count = len(exc.problems)
        _say(out, f"worklist {csv_path} refused, nothing would load ({count} problem(s)):", "red")
        for problem in exc.problems:
            _say(out, f"  {problem}")
        _say(out, "fix them in the spreadsheet and export the CSV again")
        raise typer.Exit(EXIT_PROBLEMS) from None
    _say(out, f"{len(residents)} resident(s) in {csv_path}", "green")
    _show(
        PER_VILLAGE(language),
        [*(level(language) for level in (KABKOTA, KECAMATAN, DESA)), RESIDENT_COUNT(language)],
        checks.village_summary(residents),
    )


PortArgument = Annotated[
    str, typer.Argument(metavar="PORT", help="The kit's provisioning port (e.g. /dev/ttyACM0).")
]
DbOption = Annotated[Path, typer.Option("--db", help="The collector database (SQLite).")]


KIT_ON = Words("kit di {port}", "kit on {port}")
WORKLIST_SENT = Words("daftar penduduk", "worklist")


@contextmanager
def _kit_link(port: str, language: Language) -> Iterator[WatchedPort]:
    """The kit's port, each wait for its answer counted down on one transient line
    (`provisioning.progress`); a kit that refuses, a cable pulled, a wrong device: one
    line, exit 1."""
    with (
        _problems(port, LinkError, RecordError, StorageError),
        KitProgress(out, language, KIT_ON(language).format(port=port)) as progress,
    ):
        link = WatchedPort(port=port, progress=progress)
        with link:
            yield link


@app.command("flash")
def flash_command(
    port: PortArgument,
    authority: AuthorityOption,
    kit_id: Annotated[str, typer.Option("--kit-id", help="The kit's id, e.g. KIT-3505-07.")],
    region: Annotated[str, typer.Option(help="Region code the kit works in, e.g. 3505.")],
    officers: Annotated[Path, typer.Option(help="Officers CSV: id,name,role,pin[,finger_page].")],
    worklist: Annotated[Path, typer.Option(help="The village worklist CSV.")],
    policy: Annotated[Path | None, typer.Option(help="Policy TOML (Policy fields).")] = None,
    cards: Annotated[
        list[str] | None,
        typer.Option(
            help="A serial range of blank cards the district handed this kit, BATCH:FIRST-LAST "
            "(jemput-prov district cards assign prints it); repeat for more ranges.",
        ),
    ] = None,
    round_file: Annotated[
        Path | None, typer.Option("--round", help="A round's file (round plan) to load next.")
    ] = None,
    language: district.LanguageOption = Language.ID,
) -> None:
    """Flash a kit: its key pair certified, officers, worklist, authority keys, time, policy,
    and the blank cards of its serial ranges; with --round, the round it records on next.

    Refused while the kit holds records no collection has receipted.
    """
    private = _private_keys(authority)
    with _problems(
        "nothing flashed",
        WorklistError,
        flashing.FlashInputError,
        BadKitId,
        PolicyError,
        BadSerialRange,
        RecordError,
    ):
        loaded = None if round_file is None else read_round_file(round_file, private)
        check_kit_id(kit_id)
        ranges = tuple(SerialRange.parse(text) for text in cards or ())
        staff = flashing.load_officers(officers)
        residents = load_worklist(worklist)
        # checks the officers' finger pages against the policy's sensor library
        setup = KitSetup(
            kit_id, region, staff, residents, flashing.load_policy(policy), cards=ranges
        )
    with _kit_link(port, language) as link:
        done = flashing.flash(
            link,
            private,
            setup,
            progress=lambda sent, total: link.progress.count(
                sent, total, RESIDENTS, description=WORKLIST_SENT(language)
            ),
        )
        loaded_round = None if loaded is None else load_round(link, private, loaded)
    _say(out, f"flashed kit {done.kit_id} on {port}", "green")
    _say(out, f"  kit key kid     {kid_of(done.kit_public).hex()}")
    _say(out, f"  officers        {done.officers}")
    _say(out, f"  worklist        {done.residents} resident(s)")
    _say(out, f"  kit clock       {local_time(done.kit_time, Language.EN)}")
    if loaded_round is not None:
        _say(out, f"  round           {loaded_round.code} ({loaded_round.people} listed)")
    if done.backend is KeyBackend.TPM:
        # from now on the collector refuses a key-file certificate for this kit
        listed = revocation.register_hardware_kit(
            authority, private, kit_id=done.kit_id, now=datetime.now(UTC)
        )
        _say(
            out,
            f"  kunci           TPM (registered in {revocation.list_path(authority)}, "
            f"serial {listed.serial})",
        )
    else:
        _say(out, "  kunci           file, TIDAK TERLINDUNGI (simulator/developer only)")


@app.command("collect")
def collect_command(
    authority: AuthorityOption,
    db: DbOption,
    port: Annotated[
        str | None,
        typer.Argument(metavar="PORT", help="The kit's provisioning port (e.g. /dev/ttyACM0)."),
    ] = None,
    card: Annotated[
        Path | None,
        typer.Option(
            "--from-card",
            metavar="DIR",
            file_okay=False,
            help="Instead of PORT: a records folder copied from a kit's card (DATA/records).",
        ),
    ] = None,
    language: district.LanguageOption = Language.ID,
) -> None:
    """Pull the kit's new records, verify them, keep them in DB, then send a signed receipt.

    Resumable: a cut cable loses nothing; run it again to finish.  With `--from-card DIR`,
    the records of a kit that no longer answers (its TPM or board died) are taken from a
    copy of its card's records folder and verified exactly as from the port; no receipt
    can be sent.
    """
    private = _private_keys(authority)
    started = time.monotonic()
    with (
        _collection(port, card, private, language) as (collect, progress),
        CollectorDB(db) as store,
    ):

        def show(state: collecting.Progress) -> None:
            rate = state.bytes / max(time.monotonic() - started, 1e-3) / 1024
            progress.count(
                state.done, state.total, RECORDS, description=state.kit_id, rate=f"{rate:.0f} KiB/s"
            )

        done = collect(store, show)
    held = f"{done.held} held up to"
    if card is not None:
        _say(
            out,
            f"kit {done.kit_id}: {done.new} new record(s) from the card folder {card}, {held} "
            f"record #{done.head_seq}; no receipt sent: the records came from a card, not "
            "from the kit, which (if it ever answers again) counts them uncollected until a "
            "collect over its port",
            "green",
        )
        return
    _say(
        out,
        f"kit {done.kit_id}: {done.new} new record(s), {held} the kit's head "
        f"#{done.head_seq} ({done.bytes} bytes fetched); "
        f"receipt {'sent' if done.receipted else 'not needed (no records)'}",
        "green",
    )


Collect = Callable[[CollectorDB, Callable[[collecting.Progress], None]], collecting.Collected]


@contextmanager
def _collection(
    port: str | None, card: Path | None, authority: Authority, language: Language
) -> Iterator[tuple[Collect, KitProgress]]:
    """How to collect, and the line that shows it: from the kit on ``port``, or from a
    records folder copied from a kit's ``card``.  A record that fails, a refusal or a cut
    cable is one line naming it, exit 1; neither or both given, exit 2."""
    if card is not None and port is None:
        with (
            _problems(card, RecordError, CollectorError),  # a wrong folder: exit 2
            KitProgress(out, language, str(card)) as progress,
        ):
            yield (
                lambda db, show: collecting.collect_card(card, authority, db, progress=show),
                progress,
            )
    elif port is not None and card is None:
        with _kit_link(port, language) as link:
            yield (
                lambda db, show: collecting.collect(link, authority, db, progress=show),
                link.progress,
            )
    else:
        with _user_errors():
            raise checks.WrongPath(
                "give the kit's PORT, or --from-card DIR with a records folder copied from a "
                "kit's card, not both"
            )


ON_PORT = Words("kit {kit} di {port}", "kit {kit} on {port}")
STATUS_COLUMNS = (Words("hal", "field"), Words("nilai", "value"))


@app.command("status")
def status_command(
    port: PortArgument, authority: AuthorityOption, language: district.LanguageOption = Language.ID
) -> None:
    """The kit's records, uncollected count, card stock and clock, in the words `jemput-kit
    status` uses, then the software it runs; exits 1 when the kit names damaged records or
    a broken audit chain."""
    private = _private_keys(authority)
    with _kit_link(port, language) as link:
        facts = collecting.status(link, private)
    lines = kit_status.status_lines(
        language,
        kit_id=facts.kit_id,
        demo=facts.demo,
        sealed=facts.sealed,
        uncollected=facts.uncollected,
        last_seq=facts.last_seq,
        cards=facts.cards,
        journal_open=facts.journal_open,
        clock=facts.time,
    )
    problems = kit_status.problem_lines(
        language, damaged=facts.damaged, audit_break=facts.audit_break
    )
    _show(
        ON_PORT(language).format(kit=facts.kit_id, port=port),
        [column(language) for column in STATUS_COLUMNS],
        [
            *lines,
            release_cli.battery_line(facts.battery, language),
            *release_cli.software_lines(facts.software, language),
            *problems,
        ],
    )
    if problems:
        raise typer.Exit(EXIT_PROBLEMS)


CLOCK_SET = Words("jam kit disetel ke {when}", "kit clock set to {when}")


@app.command("settime")
def settime_command(
    port: PortArgument, authority: AuthorityOption, language: district.LanguageOption = Language.ID
) -> None:
    """Set the kit's clock to this computer's time (the kit keeps UTC; shown in this
    computer's zone)."""
    private = _private_keys(authority)
    with _kit_link(port, language) as link:
        when = collecting.set_time(link, private, datetime.now(UTC))
    _say(out, CLOCK_SET(language).format(when=local_time(when, language)), "green")


SELFTEST_ON = Words("uji mandiri kit di {port}", "selftest on {port}")
SELFTEST_COLUMNS = (
    Words("perangkat", "device"),
    Words("hasil", "ok"),
    Words("keterangan", "detail"),
)
PART_OK, PART_FAULT = Words("baik", "ok"), Words("RUSAK", "FAULT")


@app.command("selftest")
def selftest_command(
    port: PortArgument, authority: AuthorityOption, language: district.LanguageOption = Language.ID
) -> None:
    """Run the kit's self-test remotely; exits 1 naming each broken part."""
    private = _private_keys(authority)
    with _kit_link(port, language) as link:
        verdicts = collecting.selftest(link, private)
    _show(
        SELFTEST_ON(language).format(port=port),
        [column(language) for column in SELFTEST_COLUMNS],
        ((v.device, (PART_OK if v.ok else PART_FAULT)(language), v.detail) for v in verdicts),
    )
    if not all(verdict.ok for verdict in verdicts):
        raise typer.Exit(EXIT_PROBLEMS)


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"  # an office store's report only


StoreOption = Annotated[
    str, typer.Option("--db", help="The collector database (SQLite), or an office store's URL.")
]


@app.command("report")
def report_command(
    target: StoreOption,
    authority: AuthorityOption,
    worklist: Annotated[Path | None, typer.Option(help="The worklist to report against.")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.TABLE,
    threshold: Annotated[
        int,
        typer.Option(
            help="Office store: flag kits and kabupaten/kota that printed fewer cards.", min=0
        ),
    ] = district.CARD_THRESHOLD,
    office: Annotated[
        bool,
        typer.Option(
            "--office",
            help="The office's list instead: counts by kind and purpose, the corrections "
            "to make, the cards the office prints with each slip's reference.",
        ),
    ] = False,
    language: district.LanguageOption = Language.ID,
    stale_days: district.StaleDaysOption = district.STALE_DAYS,
) -> None:
    """Coverage per kit, per kelurahan/desa and overall: recorded, walk-ins, printed,
    finger exceptions, not yet recorded.

    Counts only what the signatures in the database prove; a collector database or a
    office store that fails `verify` is refused (exit 1) and nothing is reported.  With a
    office store's URL: per kelurahan/desa, kecamatan and kabupaten/kota over its
    registered worklists, blank cards per kit and kabupaten/kota, per day (also as
    --format html).
    """
    if is_store_url(target):
        district.report(
            target, authority, fmt.value, threshold, language=language, stale_days=stale_days
        )
        return
    db = Path(target)
    if fmt is ReportFormat.HTML:
        _say(err, "jemput-prov: --format html needs an office store (--db postgresql://...)")
        raise typer.Exit(EXIT_USER_ERROR)
    with _problems("nothing reported", WorklistError, DatabaseRefused):
        public = checks.load_authority_public(authority)
        residents = load_worklist(worklist) if worklist is not None else None
        references = checks.load_references(authority) if worklist is not None else None
        with _collector(db) as store:
            audit = audit_database(store, public).require_ok()
        rows = build_report(audit, residents, references)
    if office:
        office_report = build_office_report(audit)
        if fmt is ReportFormat.JSON:
            out.out(office_json(office_report), highlight=False)
        else:
            out.out("\n".join(office_text(office_report)), highlight=False)
        return
    if fmt is ReportFormat.CSV:
        out.out(to_csv(rows), end="", highlight=False)
    elif fmt is ReportFormat.JSON:
        out.out(to_json(rows), highlight=False)
    else:
        _show(
            f"{READ_TABLE.title(language)}: {db}",
            READ_TABLE.headings(language, short=True),
            (READ_TABLE.cells(row, language) for row in read_rows(rows, language)),
        )
        _say(out, _log_line(audit, language))


class ExportFormat(StrEnum):
    RECORDS = "records"  # the sealed records as a kit holds them (kit.cert, *.cose)
    NIST = "nist"  # ANSI/NIST-ITL 1-2011 transactions (docs/interchange.md)
    ISO = "iso"  # ISO/IEC 19794-4/-5 images in CBEFF, as MOSIP


@app.command("export")
def export_command(
    target: StoreOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files and manifest.")],
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="records: the sealed records; nist: one ANSI/NIST-ITL transaction per live "
            "record; iso: ISO/IEC 19794 images in CBEFF per live record.",
        ),
    ] = ExportFormat.RECORDS,
    authority: Annotated[
        Path | None,
        typer.Option(
            "--authority", help="nist, iso: the authority folder (private keys).", file_okay=False
        ),
    ] = None,
    ori: Annotated[
        str | None,
        typer.Option(help="nist: the office's ORI (default DISDUKCAPIL-<the kit's region>)."),
    ] = None,
    dai: Annotated[str, typer.Option(help="nist: the destination agency's id.")] = DEFAULT_DAI,
) -> None:
    """Write the collected records as files (one folder per kit chain) with a manifest.

    `--format records` (default) writes the sealed records; `nist` and `iso` open every live
    record with the authority's private key and write what an AFIS reads (exit 1 naming
    each record left out as damaged).  Writes only under --out: a kit id in the database
    that is no safe folder name is refused (exit 1).
    """
    if fmt is not ExportFormat.RECORDS:
        _export_interchange(target, out_dir, Format(fmt.value), authority, ori, dai)
        return
    if is_store_url(target):
        _say(out, f"exported to {out_dir}; manifest {district.export_store(target, out_dir)}")
        return
    with _problems("nothing exported", BadKitId, CollectorError), _collector(Path(target)) as store:
        manifest = store.export(out_dir)
    _say(out, f"exported to {out_dir}; manifest {manifest}", "green")


@contextmanager
def _chains(target: str) -> Iterator[list[StoredChain]]:
    """The kit chains of a collector database or an office store (call inside `_problems`)."""
    if is_store_url(target):
        with district.opened(target) as store:
            yield district_chains(store)
    else:
        with _collector(Path(target)) as db:
            yield collector_chains(db)


def _export_interchange(
    target: str, out_dir: Path, fmt: Format, authority: Path | None, ori: str | None, dai: str
) -> None:
    """`export --format nist|iso`: say what was written, each record left out, exit 1 on
    any damaged one."""
    if authority is None:
        _say(err, f"jemput-prov: --format {fmt.value} perlu --authority (kunci privat otoritas)")
        raise typer.Exit(EXIT_USER_ERROR)
    private = _private_keys(authority)
    stopped = (
        "ekspor terhenti; atasi masalahnya lalu jalankan lagi (berkas yang sudah ditulis utuh)"
    )
    try:
        agencies = Agencies(ori, dai)
        with _problems(stopped, WriteError), _chains(target) as chains:
            result = export_interchange(
                chains, private, out_dir, fmt, agencies, source=source_name(target)
            )
    except (CodecMissing, BadAgency) as exc:
        _say(err, f"jemput-prov: {exc}", "red")
        raise typer.Exit(EXIT_USER_ERROR) from None
    for item in result.left_out:
        _say(out, str(item), "red" if item.problem else None)
    for path in result.removed:
        _say(out, f"dihapus dari ekspor sebelumnya: {path}", "yellow")
    _say(
        out,
        f"{len(result.written)} berkas {fmt.value} ditulis ke {out_dir}; "
        f"manifest {result.manifest}",
        "green",
    )
    if result.problems:
        _say(out, f"{len(result.problems)} rekaman tidak diekspor karena rusak", "bold red")
        raise typer.Exit(EXIT_PROBLEMS)


def _moment(text: str) -> datetime:
    """``--from``: an ISO 8601 time with its offset (a bare time could be any zone), or "now"."""
    if text == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} is not a time with its offset: give e.g. 2026-12-01T08:00+07:00 "
            "(WIB), or now",
            param_hint="--from",
        )
    return moment


@app.command("revoke")
def revoke_command(
    kit_id: Annotated[
        str, typer.Argument(metavar="KIT_ID", help="The kit's id, e.g. KIT-3505-07.")
    ],
    authority: AuthorityOption,
    since: Annotated[
        str,
        typer.Option(
            "--from",
            help="Distrust records sealed from this time on (ISO 8601 with offset, or now): "
            "the last time the kit was known to be in the officers' hands.",
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why, for the list and for `verify`.")] = "stolen",
) -> None:
    """Revoke a kit (lost, stolen): its later records are named by `verify`, `collect` refuses it.

    The signed revocation list is kept in the authority folder; copy it with
    authority.pub.cbor to every collector.  See docs/provisioning.md, "Kit stolen".
    """
    moment = _moment(since)
    private = _private_keys(authority)
    with _user_errors():
        try:
            listed = revocation.revoke(
                authority,
                private,
                kit_id=kit_id,
                since=moment,
                reason=reason,
                now=datetime.now(UTC),
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="KIT_ID") from None
    entry = listed.revoked[kit_id]
    _say(out, f"{entry.describe()}", "bold yellow")
    _say(out, f"  revocation list {revocation.list_path(authority)} (serial {listed.serial})")
    _say(out, f"  kits revoked    {', '.join(sorted(listed.revoked))}")
    _say(out, "copy the list, with authority.pub.cbor, to every collector and to the office store")


app.command("sync")(district.sync_command)
district.district_app.add_typer(cards_cli.cards_app, name="cards")
app.add_typer(district.district_app, name="district")
app.add_typer(round_app, name="round")
app.add_typer(release_cli.release_app, name="release")
app.command("update")(release_cli.update_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
