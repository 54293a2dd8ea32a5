"""`jemput-prov round`: an institution's request planned as a round, and the round loaded.

Why these steps: an institution (a school, a prison, a company) or a family asks the office
for a visit; the office writes the round's plan (a TOML file, below) with the
institution's list of its people; `plan_round` checks that list against the district store
(who is already recorded is left out, first-time voters by the election day are shown,
bad lines are refused with their line numbers), signs the plan with the authority's key,
registers it at the district, and writes the round's file (the signed plan and the people
for the kit, mode 0600: it holds names and NIKs).  `load_round` then puts it on a kit over
the port, keeping the kit's chain (``round``, after the people as a worklist transfer), or
`jemput-prov flash --round` right after a flash.

The plan file::

    code = "SMA1-KANIGORO-0310"     # 3-32 capitals, digits, '-': goes into every record
    venue = "sekolah"               # vocabulary.rounds.VenueKind
    place = "SMA Negeri 1 Kanigoro" # not for a home visit (kunjungan rumah)
    address = "Jl. Raya Kanigoro 12, Kanigoro"   # not for a home visit
    regency = "3505"                # the place's kabupaten/kota code
    kecamatan = "KANIGORO"
    day = 2026-03-10
    officers = ["PTG-1", "SPV-1"]   # officer ids the kit knows
    election_day = 2029-02-14       # optional: first-time voters are counted against it
    list = "siswa-sma1.csv"         # optional, beside this file: provisioning.round_list
    [request]
    by = "SMA Negeri 1 Kanigoro"    # for a home visit a role: keluarga, RT/RW, ...
    on = 2026-02-20
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kitlink import messages as m
from kitlink.framing import FramedPort
from provisioning.collect import connect
from provisioning.district.rounds import ListCheck, check_list, register_round
from provisioning.district.store import DistrictStore
from provisioning.flash import send_worklist
from provisioning.round_list import load_round_list
from storage import codec
from storage.errors import StorageError
from storage.files import write_atomic
from storage.keys import Authority
from storage.profile import resident_from_map, resident_to_map
from storage.rounds import (
    ROUND_GENESIS,
    LoadedRound,
    Request,
    Round,
    RoundError,
    loaded_round,
    people_refs,
    refs_digest,
    sign_round,
)
from storage.worklist import Problem
from vocabulary.rounds import VenueKind

#: Keys of a plan file, with the TOML type each must have.
PLAN_KEYS: dict[str, type | tuple[type, ...]] = {
    "code": str,
    "venue": str,
    "place": str,
    "address": str,
    "regency": str,
    "kecamatan": str,
    "day": date,
    "officers": list,
    "election_day": date,
    "list": str,
    "request": dict,
}
REQUIRED = ("code", "venue", "regency", "kecamatan", "day", "officers", "request")


class PlanInputError(StorageError, ValueError):
    """A plan file that cannot be read; ``problems`` name each key by its line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"{source}: {len(problems)} problem(s): {listed}; fix the file")


@dataclass(frozen=True)
class PlanFile:
    """A plan file read: the round as planned (before its list is checked), and its list."""

    round: Round
    list_path: Path | None


def _line_of(text: str, key: str) -> int:
    found = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def load_plan(path: str | Path) -> PlanFile:
    """The plan in ``path``; PlanInputError naming every key that is missing, unknown, of
    the wrong type, or that the plan's rules refuse (`storage.rounds.Round`)."""
    source = Path(path)
    text = source.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanInputError(str(path), [Problem(1, "", f"not TOML: {exc}")]) from exc
    problems = [
        Problem(_line_of(text, key), key, f"unknown key (known: {', '.join(PLAN_KEYS)})")
        for key in data
        if key not in PLAN_KEYS
    ]
    problems += [Problem(1, key, "missing") for key in REQUIRED if key not in data]
    problems += [
        Problem(_line_of(text, key), key, f"{value!r:.40} is not a {PLAN_KEYS[key]!r}")
        for key, value in data.items()
        if key in PLAN_KEYS and not isinstance(value, PLAN_KEYS[key])
    ]
    request = data.get("request", {})
    if isinstance(request, dict) and (
        set(request) != {"by", "on"}
        or not isinstance(request.get("by"), str)
        or not isinstance(request.get("on"), date)
    ):
        problems.append(
            Problem(_line_of(text, "request"), "request", "give by = text and on = a date")
        )
    try:
        venue = VenueKind(data.get("venue"))
    except ValueError:
        allowed = ", ".join(kind.value for kind in VenueKind)
        problems.append(
            Problem(_line_of(text, "venue"), "venue", f"{data.get('venue')!r:.40}: use {allowed}")
        )
    if problems:
        raise PlanInputError(str(path), sorted(problems))
    try:
        planned = Round(
            code=data["code"],
            venue=venue,
            place=data.get("place"),
            address=data.get("address"),
            regency=data["regency"],
            kecamatan=data["kecamatan"],
            day=data["day"],
            officers=tuple(data["officers"]),
            election_day=data.get("election_day"),
            request=Request(request["by"], request["on"]),
            listed=0,
            refs=ROUND_GENESIS,
        )
    except RoundError as exc:
        raise PlanInputError(str(path), [Problem(1, "", str(exc))]) from exc
    listed = data.get("list")
    return PlanFile(planned, None if listed is None else source.parent / listed)


@dataclass(frozen=True)
class Planned:
    """A round planned: the list as checked, the plan as signed, and the kit's people."""

    check: ListCheck
    loaded: LoadedRound
    new: bool


def plan_round(
    store: DistrictStore, authority: Authority, planned: PlanFile, *, where: str
) -> Planned:
    """Check the round's list against ``store``, sign the plan and register it there.

    RoundListError (its bad lines), StoreRefused (a store failing its audit: nothing is
    checked against it) or RoundError (a code already planned otherwise) stop it before
    anything is registered.
    """
    lines = () if planned.list_path is None else load_round_list(planned.list_path)
    check = check_list(
        store,
        authority.public,
        authority.references,
        lines,
        election_day=planned.round.election_day,
        where=where,
    )
    people = tuple(line.resident() for line in check.people)
    keyed = list(people_refs(people, authority.references))
    plan = dataclasses.replace(
        planned.round,
        listed=len(people),
        refs=refs_digest(keyed),
        left_out=check.recorded,
        no_nik=check.no_nik,
    )
    signed = sign_round(plan, authority)
    new = register_round(store, authority, signed, plan, keyed)
    return Planned(check, loaded_round(signed, people, authority.public, authority.references), new)


def write_round(path: str | Path, loaded: LoadedRound) -> None:
    """The round's file: its signed plan and the kit's people (0600: names and NIKs)."""
    data = {"plan": loaded.signed, "people": [resident_to_map(p) for p in loaded.people]}
    write_atomic(Path(path), codec.dumps(data), replace=True)  # created 0600


def read_round_file(path: str | Path, authority: Authority) -> LoadedRound:
    """A round's file, checked as the kit will check it (the plan's signature, its people)."""
    try:
        data: Any = codec.loads(Path(path).read_bytes(), max_bytes=256 * 1024 * 1024)
        people = tuple(resident_from_map(dict(person)) for person in data["people"])
        return loaded_round(data["plan"], people, authority.public, authority.references)
    except (KeyError, TypeError, ValueError) as exc:
        raise RoundError(f"{path} is not a round's file ({exc}): plan the round again") from exc


def load_round(
    port: FramedPort,
    authority: Authority,
    loaded: LoadedRound,
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> m.RoundResult:
    """Load ``loaded`` onto the kit on ``port``: its people as a worklist transfer, then
    the ``round`` request naming it.  The kit keeps its chain; its officer logs in again."""
    client, _, _ = connect(port, authority)
    transfer = send_worklist(client, loaded.people, progress=progress)
    return client.call(m.RoundArgs(loaded.signed, transfer)).result
