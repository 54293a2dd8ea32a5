"""`jemput-prov flash`: make a kit the authority's, with its officers, worklist and policy.

Why the steps go this way: the kit makes its own key pair (the private half never leaves
it) and proves it holds it by signing the answer; the tool certifies that public key with
the authority's key; then one signed ``flash`` request carries the certificate, the
officers (PINs only as salted scrypt hashes, made here so a PIN never crosses the cable),
the worklist, the authority's public keys, the time and the policy.  Everything is checked
before the kit is touched: a bad officers row or worklist row stops the flash with its
line number, and a kit holding records no collector has receipted is refused.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kitlink import messages as m
from kitlink.framing import FramedPort
from kitlink.protocol import MessageError, Refusal, Refused
from provisioning.client import KitClient
from storage.certificate import certify_kit
from storage.errors import StorageError
from storage.keys import Authority, KeyBackend
from storage.model import Officer, Policy, Resident
from storage.officers import make_officer
from storage.policy import PolicyError, parse_policy
from storage.provision import KitSetup
from storage.signed_profile import sign_profile
from storage.worklist import Problem, normalise_header, separator
from vocabulary.people import Role

OFFICER_COLUMNS = ("id", "name", "role", "pin")
#: Optional: the fingerprint sensor library page of the officer's login finger.
PAGE_COLUMN = "finger_page"
#: Header names (normalised) a district's sheet may use, in Indonesian as the worklist's.
OFFICER_HEADERS: dict[str, str] = {
    "id": "id",
    "id_petugas": "id",
    "nip": "id",
    "name": "name",
    "nama": "name",
    "nama_petugas": "name",
    "role": "role",
    "peran": "role",
    "jabatan": "role",
    "pin": "pin",
    PAGE_COLUMN: PAGE_COLUMN,
    "halaman_jari": PAGE_COLUMN,
    "halaman_sidik_jari": PAGE_COLUMN,
}
#: Role cells, in English or Indonesian.
ROLE_NAMES: dict[str, Role] = {
    "officer": Role.OFFICER,
    "petugas": Role.OFFICER,
    "supervisor": Role.SUPERVISOR,
    "pengawas": Role.SUPERVISOR,
    "penyelia": Role.SUPERVISOR,
    # The village official present during recording, who approves data corrections.
    "official": Role.OFFICIAL,
    "kepala desa": Role.OFFICIAL,
    "kades": Role.OFFICIAL,
    "lurah": Role.OFFICIAL,
    "kasi pemerintahan": Role.OFFICIAL,
    "kasi pem": Role.OFFICIAL,
}
#: The highest library page: an R307 holds 1,000 templates (0-999), an R503 200.
MAX_FINGER_PAGE = 999
#: What a flash's answer may take on the kit for each resident of its worklist, beyond the
#: answer deadline every request has (docs/performance.md, "flash").
FLASH_SECONDS_PER_RESIDENT = 0.001
#: An officer id goes into every record the officer seals: short, ASCII, no spaces.
OFFICER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)


class FlashInputError(StorageError, ValueError):
    """An officers file or policy file that cannot be loaded; ``problems`` name each line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(
            f"{source}: {len(problems)} problem(s): {listed}; fix the file and flash again"
        )


@dataclass(frozen=True)
class Flashed:
    kit_id: str
    kit_public: bytes
    officers: int
    residents: int
    kit_time: datetime
    #: What holds the kit's key, as its certificate records it.
    backend: KeyBackend = KeyBackend.FILE


def load_officers(path: str | Path) -> tuple[Officer, ...]:
    """Officers from CSV (id,name,role,pin[,finger_page]); PINs hashed here, then forgotten.

    The file is read as the worklist is (`storage.worklist`): UTF-8 with or without a
    byte-order mark, comma or semicolon separated, header names in any case and spacing.
    Headers may be Indonesian (nama, peran, halaman_jari; roles petugas, pengawas, and
    kepala desa or kasi pemerintahan for the village official).
    Without a finger_page column, officers' login fingers are on library pages 0, 1, ...
    in file order, as the sensor was enrolled.  Refused: an empty or unsafe id, an empty
    name, a page outside 0-999 or not in ASCII digits, and two officers on one page (the
    finger of one would log in as the other).
    """
    source = str(path)
    text = _read_text(path, "save the sheet as 'CSV UTF-8'")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text))
    header = [OFFICER_HEADERS.get(name, name) for name in map(normalise_header, next(rows, []))]
    missing = [column for column in OFFICER_COLUMNS if column not in header]
    if missing:
        found = ", ".join(header) or "nothing"
        raise FlashInputError(
            source, [Problem(1, "", f"missing column(s) {', '.join(missing)} (found: {found})")]
        )
    problems: list[Problem] = []
    officers: list[Officer] = []
    first_line: dict[str, int] = {}
    page_of: dict[int, tuple[str, int]] = {}
    for line, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = dict(zip(header, (cell.strip() for cell in cells), strict=False))
        officer_id = row.get("id", "")
        if officer_id in first_line:
            problems.append(
                Problem(
                    line,
                    "id",
                    f"officer id {officer_id} is already on line {first_line[officer_id]}",
                )
            )
            continue
        first_line[officer_id] = line
        officer = _officer(line, row, len(first_line) - 1, problems)
        if officer is None:
            continue
        (page,) = officer.finger_pages
        if page in page_of:
            other, other_line = page_of[page]
            problems.append(
                Problem(
                    line,
                    PAGE_COLUMN,
                    f"finger page {page} is already officer {other}'s (line {other_line}): "
                    "one finger would log in as both; give each officer a page of their own",
                )
            )
            continue
        page_of[page] = (officer.officer_id, line)
        officers.append(officer)
    if not officers and not problems:
        problems.append(Problem(1, "", "no officers in the file"))
    if problems:
        raise FlashInputError(source, problems)
    return tuple(officers)


def _read_text(path: str | Path, advice: str) -> str:
    """The file's text, UTF-8 with or without a byte-order mark; FlashInputError naming the
    line of the first byte that is not, with ``advice``."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FlashInputError(str(path), [Problem(line, "", f"not UTF-8: {advice}")]) from exc


def _officer(
    line: int, row: dict[str, str], default_page: int, problems: list[Problem]
) -> Officer | None:
    """One officers row as an Officer, or None with its problems added to ``problems``."""
    before = len(problems)
    officer_id, name = row.get("id", ""), row.get("name", "")
    if not OFFICER_ID.fullmatch(officer_id):
        shown = "empty" if not officer_id else f"{officer_id!r}"
        problems.append(
            Problem(
                line,
                "id",
                f"officer id is {shown}: use 1-32 ASCII letters, digits, '.', '-' or '_' "
                "(e.g. PTG-001)",
            )
        )
    if not name:
        problems.append(Problem(line, "name", "the officer's name is empty"))
    role_cell = row.get("role", "")
    role = ROLE_NAMES.get(" ".join(role_cell.lower().split()))
    if role is None:
        problems.append(
            Problem(
                line,
                "role",
                f"{role_cell!r} is not a role: use officer, supervisor or official "
                "(petugas, pengawas, kepala desa or kasi pemerintahan)",
            )
        )
    page_cell = row.get(PAGE_COLUMN, "")
    page = default_page
    if page_cell:
        if page_cell.isascii() and page_cell.isdigit() and int(page_cell) <= MAX_FINGER_PAGE:
            page = int(page_cell)
        else:
            problems.append(
                Problem(
                    line,
                    PAGE_COLUMN,
                    f"{page_cell!r} is not a sensor library page number "
                    f"(0-{MAX_FINGER_PAGE}, ASCII digits)",
                )
            )
    if len(problems) > before or role is None:
        return None
    try:
        return make_officer(officer_id, name, role, row.get("pin", ""), finger_pages=(page,))
    except ValueError as exc:
        problems.append(Problem(line, "pin", str(exc)))
        return None


def load_policy(path: str | Path | None) -> Policy:
    """The policy from a TOML file of Policy keys (see docs/provisioning.md); defaults if None.

    Every rule is `storage.policy`'s, the same the kit checks at every boot: each key that
    breaks one is named with its line, its value and what is allowed, before any kit is
    touched.
    """
    if path is None:
        return Policy()
    text = _read_text(path, "save the file as UTF-8")
    try:
        return parse_policy(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:  # its message says "(at line N, column M)"
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else 1
        raise FlashInputError(str(path), [Problem(line, "", f"not TOML: {exc}")]) from exc
    except PolicyError as exc:
        problems = [Problem(_line_of(text, found.key), "", str(found)) for found in exc.problems]
        raise FlashInputError(str(path), sorted(problems)) from exc


def _line_of(text: str, key: str) -> int:
    """The line of ``text`` (TOML) that sets ``key``; 1 when no line does (a rule between
    keys may name one left at its default)."""
    setting = re.compile(rf"\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
    lines = text.splitlines()
    return next((n for n, line in enumerate(lines, start=1) if setting.match(line)), 1)


def flash(
    port: FramedPort,
    authority: Authority,
    setup: KitSetup,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Callable[[int, int], None] = lambda done, total: None,
    rng: Callable[[int], bytes] = os.urandom,
) -> Flashed:
    """Flash ``setup`` into the kit on ``port``; Refused (``uncollected``) if it holds records.

    The worklist goes first, in parts (`send_worklist`, ``progress`` told residents sent
    of all); the flash then names the committed transfer instead of carrying the list.
    """
    client = KitClient(port, authority)
    hello = client.hello()
    if hello.uncollected:
        raise Refused(
            Refusal.UNCOLLECTED,
            f"kit {hello.kit_id} holds {hello.uncollected} record(s) no collector has "
            f"receipted: run `jemput-prov collect {port.name}` first, then flash",
        )
    key = client.keygen()
    transfer = send_worklist(client, setup.worklist, progress=progress, rng=rng)
    moment = now()
    certificate = certify_kit(
        authority,
        kit_id=setup.kit_id,
        region=setup.region,
        kit_public=key.public,
        now=moment,
        alg=key.alg,
        backend=key.store,
    )
    references = authority.references.to_bytes()
    args = m.FlashArgs.of(
        setup,
        authority=authority.public,
        worklist_transfer=transfer,
        cert=certificate,
        time=moment,
        reference_key=references,
        # the kit keeps the profile with this signature and checks it at every boot
        profile_signature=sign_profile(
            setup.profile(
                authority.public.to_cbor(), demo=authority.public.demo, reference_key=references
            ),
            authority,
        ),
    )
    # the kit checks the list against the signature, encrypts and stores it, and reads it
    # back before it answers: 100,000 residents take it tens of seconds
    client.timeout += len(setup.worklist) * FLASH_SECONDS_PER_RESIDENT
    result = client.call(args).result
    return Flashed(
        setup.kit_id, key.public, len(setup.officers), len(setup.worklist), result.time, key.store
    )


def send_worklist(
    client: KitClient,
    worklist: tuple[Resident, ...],
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
    rng: Callable[[int], bytes] = os.urandom,
) -> bytes:
    """Stage ``worklist`` on the kit in parts and commit it; the transfer's id.

    The kit answers each part with how many residents it holds, and the commit with the
    count it checked against the SHA-256 of the whole list; either disagreeing with what
    was sent is a MessageError, so a flash never goes ahead on a list the kit lacks.
    """
    size = m.PART_RESIDENTS
    parts = [worklist[at : at + size] for at in range(0, len(worklist), size)] or [()]
    transfer = rng(m.TRANSFER_BYTES)
    sent = 0
    progress(0, len(worklist))
    for index, part in enumerate(parts):
        received = client.call(m.WorklistPartArgs(transfer, index, len(parts), part)).result
        sent += len(part)
        if received.received != sent:
            raise MessageError(
                f"the kit holds {received.received} residents after part {index}, not {sent}"
            )
        progress(sent, len(worklist))
    digest = m.worklist_digest(worklist)
    commit = m.WorklistCommitArgs(transfer, len(parts), len(worklist), digest)
    held = client.call(commit).result.residents
    if held != len(worklist):
        raise MessageError(f"the kit committed {held} residents, not {len(worklist)}")
    return transfer
