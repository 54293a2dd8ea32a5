"""`jemput-prov`: the authority's tool for keys, kits' records and worklists.

Why the exit codes matter: scripts at the regency office run `verify` after every
collection, so 0 means every record verified, 1 means a record has a problem (each named
with its file and why), and 2 means the command itself was wrong (a missing folder, a
key file others can read) and nothing was checked.  User errors print one line, never a
traceback; tracebacks never show local variables, which could hold private keys.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from provisioning import checks
from storage.errors import RecordError
from storage.keys import AUTHORITY_PUBLIC_FILE, ENCRYPTION_KEY_FILE, SIGNING_KEY_FILE, Authority
from storage.model import Enrolment
from storage.record import RecordHeader
from storage.worklist import WorklistError, load_worklist

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USER_ERROR = 2

app = typer.Typer(
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


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def _row(table: Table, *cells: object) -> None:
    table.add_row(*(Text("-" if cell is None else str(cell)) for cell in cells))


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
        ):
            _say(out, f"  {label:<15} {directory / file} (mode {_mode(directory / file)})")
        _say(out, f"  public keys     {directory / AUTHORITY_PUBLIC_FILE} (give it to kits)")
    _say(
        out,
        f"WARNING: the private keys must stay offline: keep {directory} on an offline "
        "machine or removable media, never on a kit or a networked computer.",
        "bold yellow",
    )


def _gaps(gaps: list[tuple[int, int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps) or "none"


@app.command("verify")
def verify(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH", help="A record file, a kit's records folder or data folder, or kits'."
        ),
    ],
    authority: AuthorityOption,
) -> None:
    """Verify kits' records against the authority: certificate, signatures, chain, gaps.

    Exits 0 when everything verifies, 1 when any record has a problem (each one named
    with its file and why), 2 when PATH or the authority folder is wrong.
    """
    with _user_errors():
        public = checks.load_authority_public(authority)
        reports = checks.verify_path(path, public)
    demo = "DEMO " if public.demo else ""
    table = _table(
        f"{demo}authority {public.name!r}, kid {public.kid.hex()}",
        "kit",
        "records",
        "first",
        "last",
        "gaps",
        "problems",
        "folder",
    )
    for report in reports:
        chain = report.chain
        _row(
            table,
            chain.kit_id,
            chain.count,
            chain.first,
            chain.last,
            _gaps(chain.gaps),
            len(chain.problems),
            report.folder,
        )
    out.print(table)
    if public.demo:
        _say(out, "DEMO authority: these records are not real enrolments.", "bold yellow")
    problems = [problem for report in reports for problem in report.problems]
    for file, exc in problems:
        _say(out, f"{file}: {type(exc).__name__}: {exc}", "red")
    if problems:
        _say(out, f"{len(problems)} problem(s) in {len(reports)} kit(s)", "bold red")
        raise typer.Exit(EXIT_PROBLEMS)
    records = sum(report.chain.count for report in reports)
    _say(out, f"all {records} record(s) of {len(reports)} kit(s) verify", "bold green")


def _header_rows(table: Table, header: RecordHeader) -> None:
    _row(table, "kit", header.kit_id)
    _row(table, "seq", header.seq)
    _row(table, "sealed at", header.sealed_at.isoformat())
    _row(table, "officer", header.officer_id)
    _row(table, "worklist ref", header.worklist_ref or "walk-in")
    _row(table, "captured", ", ".join(m.value for m in header.captured) or "nothing")
    _row(table, "print card", "yes" if header.print_card else "no")


def _body_rows(table: Table, enrolment: Enrolment) -> None:
    resident = enrolment.resident
    _row(table, "NIK", resident.nik)
    _row(table, "name", resident.name)
    _row(table, "sex", resident.sex.value)
    _row(table, "born", f"{resident.birth_place}, {resident.birth_date.isoformat()}")
    rt_rw = f"RT/RW {resident.rt_rw}" if resident.rt_rw else ""
    _row(table, "address", " ".join(part for part in (resident.address, rt_rw) if part))
    place = (resident.village, resident.district, resident.regency, resident.province)
    _row(table, "village", ", ".join(part for part in place if part))
    _row(table, "religion", resident.religion)
    _row(table, "marital status", resident.marital_status)
    _row(table, "occupation", resident.occupation)
    _row(table, "blood type", resident.blood_type)
    _row(table, "citizenship", resident.citizenship)
    _row(table, "started at", enrolment.started_at.isoformat())
    face = enrolment.face_jpeg
    _row(table, "face", f"JPEG, {len(face)} bytes" if face is not None else "none")
    strokes = enrolment.signature_strokes
    points = sum(len(stroke) for stroke in strokes)
    _row(table, "signature", f"{len(strokes)} stroke(s), {points} point(s)")
    if enrolment.voids is not None:
        _row(table, "voids", f"record {enrolment.voids}: {enrolment.void_reason}")
    _row(table, "approvals", ", ".join(enrolment.approvals) or "none")


def _finger_table(enrolment: Enrolment) -> Table:
    table = _table("fingers", "pos", "finger", "quality or exception")
    for finger in enrolment.fingers:
        if finger.exception is None:
            result = f"quality {finger.quality}"
        else:
            result = f"exception: {finger.exception}, approved by {finger.approved_by or '-'}"
        _row(table, finger.position, checks.position_name(finger.position), result)
    return table


@app.command("open")
def open_command(
    record: Annotated[
        Path, typer.Argument(metavar="RECORD", help="A record file (.cose).", dir_okay=False)
    ],
    authority: AuthorityOption,
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
    with _user_errors():
        private = checks.load_authority(authority)
    try:
        with _user_errors():
            opened = checks.open_record_file(record, private)
    except RecordError as exc:
        _say(err, f"jemput-prov: {record}: {type(exc).__name__}: {exc}", "red")
        raise typer.Exit(EXIT_PROBLEMS) from None
    table = _table(f"record {record}", "field", "value")
    _header_rows(table, opened.header)
    _body_rows(table, opened.enrolment)
    out.print(table)
    out.print(_finger_table(opened.enrolment))
    if opened.signed_by is None:
        _say(out, "signature NOT checked: no kit.cert beside the record", "bold yellow")
    else:
        _say(out, f"signature verified: kit {opened.signed_by}", "green")
    if out_dir is not None:
        with _user_errors():
            written = checks.export_images(opened.enrolment, out_dir)
        for path in written:
            _say(out, f"wrote {path}")


@worklist_app.command("check")
def worklist_check(
    csv_path: Annotated[
        Path, typer.Argument(metavar="CSV", help="The worklist exported as CSV.", dir_okay=False)
    ],
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
    table = _table("per village", "regency", "district", "village", "residents")
    for regency, district, village, count in checks.village_summary(residents):
        _row(table, regency, district, village, count)
    out.print(table)


def main() -> None:
    app()
