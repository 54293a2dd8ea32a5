"""The district commands of jemput-prov: `district init`, `district report`, `sync`, and
what `report`, `verify` and `export` do when `--db` names an office store.

Why here and not in provisioning/cli.py: that file is the laptop's tool and is shared by
many hands; it only dispatches on the URL scheme (`is_store_url`) and these functions do
the rest, with the same exit codes (0 fine, 1 problems found, 2 the command was wrong).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from provisioning import checks
from provisioning.collector import CollectorDB
from provisioning.district import is_store_url
from provisioning.district.audit import StoreAudit, audit_store, log_line, problems_by_row
from provisioning.district.errors import DistrictError, LaptopRefused, StoreRefused
from provisioning.district.export import export
from provisioning.district.figures import CARD_THRESHOLD, STALE_DAYS, Figures, report_figures
from provisioning.district.formats import log_text, read_sections, to_csv, to_json, write_rollup
from provisioning.district.html import render
from provisioning.district.office_sync import sync_office
from provisioning.district.store import DistrictStore
from provisioning.district.sync import SyncResult, sync
from provisioning.office_log import OfficeDB, OfficeLogError
from storage.keys import Authority, AuthorityPublic
from storage.model import Resident
from storage.reference import ReferenceKey
from storage.worklist import WorklistError, load_worklist
from vocabulary.language import LANGUAGE_ENV, Language

EXIT_PROBLEMS = 1
EXIT_USER_ERROR = 2

district_app = typer.Typer(
    help="The office store (the Disdukcapil's, on PostgreSQL): every laptop's records, one "
    "report per kelurahan/desa, kecamatan and kabupaten/kota.",
    no_args_is_help=True,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

UrlArgument = Annotated[
    str, typer.Argument(metavar="URL", help="The store, e.g. postgresql://user@host/jemput.")
]
ThresholdOption = Annotated[
    int,
    typer.Option(help="Flag kits and kabupaten/kota that printed fewer cards than this.", min=0),
]
LanguageOption = Annotated[
    Language,
    typer.Option(
        "--language",
        envvar=LANGUAGE_ENV,
        help="The language of headings and numbers (id: Bahasa Indonesia, en: English); "
        "CSV and JSON keys stay the same.",
    ),
]
AuthorityOption = Annotated[
    Path,
    typer.Option(
        "--authority",
        help="The authority folder: its public keys and reference key audit the store.",
        file_okay=False,
    ),
]


class DistrictFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


def _say(console: Console, message: str, style: str | None = None) -> None:
    console.print(Text(message, style=style or ""), soft_wrap=True)


def _fail(message: str, code: int) -> typer.Exit:
    _say(err, f"jemput-prov: {message}", "red")
    return typer.Exit(code)


def _url(url: str) -> str:
    if not is_store_url(url):
        raise _fail(f"{url} is not a database URL: give postgresql://user@host/database", 2)
    return url


def _where(url: str) -> str:
    """The store as messages name it: its URL without the query (socket paths, options)."""
    return url.split("?")[0]


def _audit_keys(authority: Path) -> tuple[AuthorityPublic, ReferenceKey]:
    """What an audit needs of the authority folder: the public keys and the reference key
    (which keys the references of records of format 1 and 2); one line and exit 2 if not."""
    try:
        return checks.load_authority_public(authority), checks.load_references(authority)
    except (OSError, checks.WrongPath) as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None


@contextmanager
def opened(url: str, *, create: bool = False) -> Iterator[DistrictStore]:
    """The store at ``url``; an unreachable or foreign database is one line and exit 2,
    a failure while working one line and exit 1."""
    try:
        store = DistrictStore.open(_url(url), create=create)
    except (DistrictError, SQLAlchemyError) as exc:
        raise _fail(str(exc).splitlines()[0], EXIT_USER_ERROR) from None
    try:
        with store:
            yield store
    except SQLAlchemyError as exc:  # the server went away, or refused a statement
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise _fail(
            f"the office store failed mid-way ({reason}); what was committed is kept: "
            "run the command again",
            EXIT_PROBLEMS,
        ) from None


@district_app.command("init")
def init_command(url: UrlArgument) -> None:
    """Create the office store's tables (one partition per province) in an empty database."""
    with opened(url, create=True):
        pass
    _say(out, f"office store ready at {url}", "green")


def _figures(url: str, authority: Path, threshold: int, stale_days: int = STALE_DAYS) -> Figures:
    """The store's figures once its audit passes; a store that fails is one line, exit 1."""
    public, references = _audit_keys(authority)
    with opened(url) as store:
        try:
            return report_figures(
                store,
                public,
                references,
                where=_where(url),
                threshold=threshold,
                stale_days=stale_days,
            )
        except StoreRefused as exc:
            raise _fail(f"nothing reported: {exc}", EXIT_PROBLEMS) from None
        except checks.WrongAuthority as exc:
            raise _fail(f"nothing reported: {exc}", EXIT_USER_ERROR) from None


def print_tables(console: Console, figures: Figures, language: Language) -> None:
    """The report's tables as people read them, short headings, then the sync log."""
    for table, rows in read_sections(figures, language):
        shown = Table(title=table.title(language), title_justify="left")
        for heading in table.headings(language, short=True):
            shown.add_column(heading)
        for row in rows:
            shown.add_row(*(Text(cell) for cell in table.cells(row, language)))
        console.print(shown)
    console.print(Text(log_text(figures, language)), soft_wrap=True)


def report(
    url: str,
    authority: Path,
    fmt: str,
    threshold: int,
    output: Path | None = None,
    language: Language = Language.ID,
    *,
    stale_days: int = STALE_DAYS,
) -> None:
    """Print (or write to ``output``) the district report in ``fmt``, from what the audit
    of the store derived: a store that fails its audit is refused (exit 1)."""
    figures = _figures(url, authority, threshold, stale_days)
    chosen = DistrictFormat(fmt)
    if chosen is DistrictFormat.TABLE:
        with _console(output) as console:
            print_tables(console, figures, language)
        return
    render_as = {DistrictFormat.CSV: to_csv, DistrictFormat.HTML: lambda f: render(f, language)}
    text = render_as.get(chosen, lambda f: to_json(f) + "\n")(figures)
    with _console(output) as console:
        console.out(text, end="", highlight=False)


@contextmanager
def _console(output: Path | None) -> Iterator[Console]:
    """The terminal, or ``output`` as a file (wide enough that tables are not cut)."""
    if output is None:
        yield out
        return
    with output.open("w", encoding="utf-8") as file:
        yield Console(file=file, width=240, highlight=False)
    _say(out, f"wrote {output}", "green")


StaleDaysOption = Annotated[
    int,
    typer.Option(help="Office store: flag kits not collected for more than this many days.", min=1),
]


@district_app.command("report")
def report_command(
    url: UrlArgument,
    authority: AuthorityOption,
    fmt: Annotated[DistrictFormat, typer.Option("--format")] = DistrictFormat.TABLE,
    threshold: ThresholdOption = CARD_THRESHOLD,
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    language: LanguageOption = Language.ID,
    stale_days: StaleDaysOption = STALE_DAYS,
) -> None:
    """Coverage per kelurahan/desa, kecamatan, kabupaten/kota; blank cards per kit and per
    kabupaten/kota; per day; the kit fleet (versions, last collection, blanks left,
    battery, clock; flags).  `--format html` is the page for the office head (charts,
    printable on A4).

    Counts only what the store's audit derives from signed bytes; a store that fails
    `verify --db` is refused (exit 1).
    """
    report(url, authority, fmt.value, threshold, output, language, stale_days=stale_days)


@district_app.command("rollup")
def rollup_command(
    url: UrlArgument,
    authority: AuthorityOption,
    folder: Annotated[Path, typer.Option("--out", help="Folder for rollup-<code>.json.")],
    threshold: ThresholdOption = CARD_THRESHOLD,
) -> None:
    """The national roll-up: one file per kabupaten/kota, counts only, for the ministry.

    Refused (exit 1) for a store that fails `verify --db`.
    """
    for path in write_rollup(_figures(url, authority, threshold), folder):
        _say(out, f"wrote {path}")


def verify(url: str, authority: Path) -> None:
    """`verify --db URL`: the store's audit, every problem by table, row and column; exit
    1 for any problem or fork, 0 when every row is what its signatures say."""
    public, references = _audit_keys(authority)
    with opened(url) as store, store.snapshot() as connection:
        try:
            audit = audit_store(connection, public, references, where=_where(url))
        except checks.WrongAuthority as exc:
            raise _fail(f"{_where(url)}: {exc}", EXIT_USER_ERROR) from None
    _show_audit(audit)
    if audit.problems or audit.forks:
        _say(
            out,
            f"{len(audit.problems)} problem(s) and {len(audit.forks)} fork(s) in {audit.where}",
            "bold red",
        )
        raise typer.Exit(EXIT_PROBLEMS)
    _say(
        out,
        f"all {audit.records} record(s) of {len(audit.chains)} kit(s) verify",
        "bold green",
    )


def _show_audit(audit: StoreAudit) -> None:
    table = Table(title=f"office store {audit.where}", title_justify="left")
    for column in ("kit", "records", "last", "problems", "chain"):
        table.add_column(column)
    for chain in audit.chains:
        cells = (chain.kit_id, chain.records, chain.last, chain.problems, chain.folder)
        table.add_row(*(Text("-" if cell is None else str(cell)) for cell in cells))
    out.print(table)
    for line in problems_by_row(audit):
        _say(out, line, "red")
    for fork in audit.forks:
        _say(out, f"FORK: {fork}", "bold red")
    for note in audit.notes:
        _say(out, f"{audit.where}: {note}", "yellow")
    _say(out, log_line(audit.log_length, audit.log_shown))


def export_store(url: str, out_dir: Path) -> Path:
    with opened(url) as store:
        return export(store, out_dir, source=_where(url))


def _show_sync(result: SyncResult, paths: list[Path]) -> None:
    for chain in result.chains:
        _say(
            out,
            f"kit {chain.kit_id}: {chain.new} new, {chain.already} already held, "
            f"{chain.ledgers} new ledger(s) of {chain.offered} verified record(s) offered",
        )
    for fork in result.forks:
        _say(out, f"FORK: {fork}", "bold red")
    for problem in result.problems:
        _say(out, f"refused: {problem}", "red")
    for path, worklist in zip(paths, result.worklists, strict=True):
        _say(
            out,
            f"worklist {path}: {worklist.lines} line(s), {worklist.new} newly registered "
            f"(digest {worklist.digest.hex()[:16]})",
        )
    _say(out, f"sync log statement {result.statement} signed")


def sync_command(
    to: Annotated[str, typer.Option("--to", help="The office store's URL.")],
    authority: Annotated[
        Path, typer.Option("--authority", help="The authority folder.", file_okay=False)
    ],
    db: Annotated[
        Path | None, typer.Option("--db", help="The laptop's collector database.")
    ] = None,
    office: Annotated[
        Path | None,
        typer.Option("--office", help="An office desk's file (jemput-prov office init)."),
    ] = None,
    worklist: Annotated[
        list[Path] | None,
        typer.Option(help="A worklist CSV to register at the office store (repeatable)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="This laptop's name in fork reports (default: DB).")
    ] = None,
) -> None:
    """Push the laptop's verified records, heads, ledgers and receipts to the district,
    register worklists, and sign the sync's statement into the store's log; with
    --office, an office desk's signed ledger too.

    The district verifies everything again; a record held already is skipped, a different
    record for a kit and seq already held is a fork (refused, both sources named, exit 1).
    Needs the authority folder with its private keys, as `collect` does.  Resumable: run
    it again after an interruption; a worklist's registration resumes too.
    """
    if db is None and office is None:
        raise _fail("give --db (a laptop's collector database), --office, or both", 2)
    try:
        keys = checks.load_authority(authority)  # its signing key signs the sync's statement
        lists = [load_worklist(path) for path in worklist or ()]
        if db is not None and not db.is_file():
            raise checks.WrongPath(f"collector database {db} does not exist: run collect first")
    except (OSError, checks.WrongPath) as exc:
        raise _fail(str(exc), EXIT_USER_ERROR) from None
    except WorklistError as exc:
        raise _fail(f"nothing synced: {exc}", EXIT_PROBLEMS) from None
    ok = True
    if db is not None:
        ok = _sync_laptop(db, to, keys, lists, worklist or [], source)
    if office is not None:
        ok = _sync_office(office, to, keys, source) and ok
    if not ok:
        raise typer.Exit(EXIT_PROBLEMS)


def _sync_laptop(
    db: Path,
    to: str,
    keys: Authority,
    lists: list[tuple[Resident, ...]],
    paths: list[Path],
    source: str | None,
) -> bool:
    with opened(to) as store:
        try:
            with CollectorDB(db) as collector:
                result = sync(
                    collector,
                    store,
                    keys,
                    references=keys.references,
                    source=source or str(db.resolve()),
                    worklists=lists,
                )
        except checks.WrongPath as exc:  # a collector database of another schema version
            raise _fail(str(exc), EXIT_USER_ERROR) from None
        except LaptopRefused as exc:
            for row in exc.rows:
                _say(err, row, "red")
            raise _fail(str(exc), EXIT_PROBLEMS) from None
    _show_sync(result, paths)
    if result.ok:
        _say(out, f"synced {result.new} new record(s) from {db}", "green")
    return result.ok


def _sync_office(path: Path, to: str, keys: Authority, source: str | None) -> bool:
    with opened(to) as store:
        try:
            with OfficeDB.open(path) as office:
                done = sync_office(office, store, keys, source=source or str(path.resolve()))
        except FileNotFoundError as exc:
            raise _fail(str(exc), EXIT_USER_ERROR) from None
        except OfficeLogError as exc:
            raise _fail(f"nothing synced: {path}: {exc}", EXIT_PROBLEMS) from None
    for problem in done.problems:
        _say(out, f"refused: {problem}", "red")
    _say(
        out,
        f"office {done.office}: {done.new} new of {done.offered} entries; sync log statement "
        f"{done.statement} signed",
        "green" if not done.problems else "red",
    )
    return not done.problems
