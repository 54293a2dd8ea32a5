"""A round: where the kit goes, when, with whom, and for whom; signed by the authority.

Why signed: a round's code goes into every record the kit seals while it is loaded, and
the district counts by it and by the round's list, so the office's plan must be the
authority's word, as a kit certificate is: `sign_round` makes a COSE_Sign1 of the plan
with the authority's key, and the kit (when the round is loaded, and at every boot) and
the district (at every audit) read it back only through `read_round`.

Why the plan holds no person: the signed plan goes to the district and is read by anyone
who can read its store.  It holds the venue kind, the place's name and address (for a
school, a prison, a mall: public facts), the kabupaten/kota and kecamatan, the day, the
officers' ids, the election day, who asked for the visit and when, and counts.  A home
visit's address is where a person lives, so it has no place name and no address, and its
requester is named by role ("keluarga", "RT/RW"...), never by name.  The people are named
only by the chain of their keyed references (`refs`, under the authority's reference key,
`storage.reference`): the kit checks the people it is given against it, the district the
list it registered; neither can be swapped without breaking it.

On the kit, the plan and the people (demographics: personal) are kept together in one file
encrypted with the kit's data key (`save_loaded`, `load_loaded`), and checked again at
every boot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from storage import codec
from storage.codec import Tampered
from storage.cose import HDR_CONTENT_TYPE, BadSignature, open_sign1, sign1
from storage.datakey import StateCipher, StateDecryptError
from storage.errors import RecordError, StateError
from storage.files import write_atomic
from storage.keys import Authority, AuthorityPublic
from storage.model import ROUND_CODE, Resident, RoundStamp
from storage.profile import resident_from_map, resident_to_map
from storage.reference import REF_BYTES, ReferenceKey
from vocabulary.rounds import VenueKind

CONTENT_TYPE = "application/jemput-round+cbor"
PLAN_VERSION = 1
#: The link before a round list's first keyed reference: its own label, so no other
#: chain's start can pose as one.
ROUND_GENESIS = hashlib.sha256(b"jemput-round-list\0").digest()
#: Who may ask for a home visit, by role: a plan never names the person who asked.
HOME_REQUESTERS = (
    "keluarga",
    "RT/RW",
    "desa/kelurahan",
    "kader posyandu",
    "puskesmas",
    "dinas sosial",
)
#: Text fields of a plan: a place's name or address, an officer id.
TEXT_MAX = 200
#: The most people a round's list may hold on a kit (as a worklist: kitlink's bound).
PEOPLE_MAX = 200_000
#: The kit's file, encrypted with its data key (context ``round``).
ROUND_CONTEXT = b"round"


class RoundError(RecordError, ValueError):
    """A round plan that is not the authority's, or says what a plan may not."""


@dataclass(frozen=True)
class Request:
    """An institution's (or a family's) request for a visit, as the office recorded it."""

    #: The institution's name; for a home visit, who asked by role (`HOME_REQUESTERS`).
    by: str
    on: date


@dataclass(frozen=True)
class Round:
    """The office's plan of one round (see the module's doc for what it may hold)."""

    code: str
    venue: VenueKind
    #: The place's name (a school, a prison): None for a home visit.
    place: str | None
    #: The place's address: None for a home visit.
    address: str | None
    #: Kabupaten/kota code (4 digits) and kecamatan of the place.
    regency: str
    kecamatan: str
    day: date
    officers: tuple[str, ...]
    #: The election day the office counts first-time voters against (None: none set).
    election_day: date | None
    request: Request
    #: People on the list the kit is given, and the chain of their keyed references.
    listed: int
    refs: bytes
    #: Lines of the institution's list left out because their person is already recorded,
    #: and lines without a NIK (recorded as walk-ins at the round, with their KK).
    left_out: int = 0
    no_nik: int = 0

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise RoundError(f"round {self.code!r:.40}: {'; '.join(problems)}")

    @property
    def stamp(self) -> RoundStamp:
        """What each record the kit seals on this round names."""
        return RoundStamp(self.code, self.venue)

    @property
    def province(self) -> str:
        return self.regency[:2]


def _problems(plan: Round) -> Iterator[str]:
    """Each thing ``plan`` says that a plan may not (see the module's doc)."""
    if not ROUND_CODE.fullmatch(plan.code):
        yield "the code is not 3-32 capital letters, digits and '-' (e.g. SMA1-KANIGORO-0310)"
    if not isinstance(plan.venue, VenueKind):
        yield f"venue {plan.venue!r:.40} is not a venue kind"
    elif plan.venue.is_home:
        if plan.place is not None or plan.address is not None:
            yield "a home visit has no place name and no address: they would name a person"
        if plan.request.by not in HOME_REQUESTERS:
            yield (
                f"a home visit's request is named by role, one of {', '.join(HOME_REQUESTERS)}, "
                f"not {plan.request.by!r:.40}"
            )
    elif not _text(plan.place) or not _text(plan.address):
        yield f"a {plan.venue.value} needs its name and address"
    if not (plan.regency.isascii() and plan.regency.isdigit() and len(plan.regency) == 4):
        yield f"regency {plan.regency!r:.20} is not a 4-digit kabupaten/kota code"
    if not _text(plan.kecamatan):
        yield "the kecamatan is empty"
    if not plan.officers or not all(_text(o) and o.isascii() for o in plan.officers):
        yield "the officers are not a list of officer ids"
    if len(set(plan.officers)) != len(plan.officers):
        yield "an officer is listed twice"
    if not _text(plan.request.by):
        yield "who asked for the visit is empty"
    if plan.request.on > plan.day:
        yield f"the request ({plan.request.on}) comes after the round ({plan.day})"
    if plan.election_day is not None and plan.election_day < plan.day:
        yield f"the election day {plan.election_day} is before the round ({plan.day})"
    for name in ("listed", "left_out", "no_nik"):
        count = getattr(plan, name)
        if type(count) is not int or not 0 <= count <= PEOPLE_MAX:
            yield f"{name} {count!r:.20} is not a count of 0-{PEOPLE_MAX}"
    if len(plan.refs) != REF_BYTES:
        yield f"refs is {len(plan.refs)} bytes, not {REF_BYTES}"


def _text(value: str | None) -> bool:
    return value is not None and 0 < len(value.strip()) == len(value) <= TEXT_MAX


# -- the list's keyed references ------------------------------------------------------------


def ref_link(before: bytes, keyed: bytes) -> bytes:
    """The link through one keyed reference after the link ``before``."""
    return hashlib.sha256(before + keyed).digest()


def refs_digest(keyed: Iterable[bytes]) -> bytes:
    """The chain of a round list's keyed references, in order: what the plan signs."""
    link = ROUND_GENESIS
    for ref in keyed:
        link = ref_link(link, ref)
    return link


def people_refs(people: Iterable[Resident], references: ReferenceKey) -> Iterator[bytes]:
    """Each person's keyed worklist reference (their NIK, unless the list gave another)."""
    for person in people:
        if not person.worklist_ref:
            raise RoundError(f"a person on the round's list has no reference (NIK {person.nik})")
        yield references.keyed(person.worklist_ref)


def check_people(plan: Round, people: tuple[Resident, ...], references: ReferenceKey) -> None:
    """RoundError unless ``people`` are the list ``plan`` signs, in its order."""
    if len(people) != plan.listed:
        raise RoundError(
            f"round {plan.code}: {len(people)} people given, the plan lists {plan.listed}"
        )
    if refs_digest(people_refs(people, references)) != plan.refs:
        raise RoundError(
            f"round {plan.code}: the people given are not those the plan signs (their keyed "
            "references differ): load the round from the office's plan file again"
        )


# -- the signed plan --------------------------------------------------------------------------

_KEYS = {
    "v",
    "code",
    "venue",
    "place",
    "address",
    "regency",
    "kecamatan",
    "day",
    "officers",
    "election",
    "request",
    "listed",
    "left_out",
    "no_nik",
    "refs",
}


def plan_map(plan: Round) -> dict[str, Any]:
    """The plan as the authority signs it (CBOR)."""
    election = None if plan.election_day is None else plan.election_day.isoformat()
    return {
        "v": PLAN_VERSION,
        "code": plan.code,
        "venue": plan.venue.value,
        "place": plan.place,
        "address": plan.address,
        "regency": plan.regency,
        "kecamatan": plan.kecamatan,
        "day": plan.day.isoformat(),
        "officers": list(plan.officers),
        "election": election,
        "request": {"by": plan.request.by, "on": plan.request.on.isoformat()},
        "listed": plan.listed,
        "left_out": plan.left_out,
        "no_nik": plan.no_nik,
        "refs": plan.refs,
    }


def _typed(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise TypeError(f"{key} is {type(value).__name__}")
    return value


def plan_from_map(data: Any) -> Round:
    """A plan map read strictly: exactly its keys, each of its type; RoundError if not."""
    try:
        if not isinstance(data, Mapping) or set(data) != _KEYS:
            raise ValueError(
                f"keys {sorted(map(str, data)) if isinstance(data, Mapping) else data!r:.200}"
            )
        if data["v"] != PLAN_VERSION or type(data["v"]) is not int:
            raise ValueError(f"plan version {data['v']!r}, this tool reads {PLAN_VERSION}")
        request = _typed(data, "request", Mapping)
        if set(request) != {"by", "on"}:
            raise ValueError("the request is not a map of by and on")
        election = _typed(data, "election", (str, type(None)))
        officers = _typed(data, "officers", list)
        if not all(isinstance(officer, str) for officer in officers):
            raise TypeError("officers are not all text")
        return Round(
            code=_typed(data, "code", str),
            venue=VenueKind(_typed(data, "venue", str)),
            place=_typed(data, "place", (str, type(None))),
            address=_typed(data, "address", (str, type(None))),
            regency=_typed(data, "regency", str),
            kecamatan=_typed(data, "kecamatan", str),
            day=date.fromisoformat(_typed(data, "day", str)),
            officers=tuple(officers),
            election_day=None if election is None else date.fromisoformat(election),
            request=Request(
                _typed(request, "by", str), date.fromisoformat(_typed(request, "on", str))
            ),
            listed=_typed(data, "listed", int),
            left_out=_typed(data, "left_out", int),
            no_nik=_typed(data, "no_nik", int),
            refs=_typed(data, "refs", bytes),
        )
    except RoundError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise RoundError(f"not a round plan: {exc}") from exc


def sign_round(plan: Round, authority: Authority) -> bytes:
    """The authority's COSE_Sign1 of ``plan``: what a kit loads and the district keeps."""
    return sign1(
        codec.dumps(plan_map(plan)),
        authority.signing_key,
        kid=authority.kid,
        content_type=CONTENT_TYPE,
    )


def read_round(data: bytes, authority: AuthorityPublic) -> Round:
    """The plan in ``data``, once its signature is ``authority``'s; RoundError if not."""
    try:
        msg = open_sign1(data, authority.sign_public, kid=authority.kid)
    except (BadSignature, Tampered) as exc:
        raise RoundError(
            f"the round plan is not signed by authority {authority.name!r}: {exc}"
        ) from exc
    except RecordError as exc:
        raise RoundError(f"the round plan does not decode: {exc}") from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != CONTENT_TYPE:
        raise RoundError("the signed object is not a round plan")
    return plan_from_map(codec.loads(msg.payload))


# -- on the kit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedRound:
    """The round a kit was loaded with: the signed plan as it came, and its people."""

    signed: bytes
    plan: Round
    people: tuple[Resident, ...]


def loaded_round(
    signed: bytes,
    people: tuple[Resident, ...],
    authority: AuthorityPublic,
    references: ReferenceKey,
) -> LoadedRound:
    """The round ``signed`` with ``people``, once both check out (RoundError if not)."""
    plan = read_round(signed, authority)
    check_people(plan, people, references)
    return LoadedRound(signed, plan, people)


def check_officers(plan: Round, officers: Iterable[str]) -> None:
    """RoundError unless every officer ``plan`` names is one of the kit's ``officers``."""
    known = set(officers)
    unknown = [officer for officer in plan.officers if officer not in known]
    if unknown:
        raise RoundError(
            f"round {plan.code} names officers this kit does not know: {', '.join(unknown)}; "
            "flash the kit with them, or plan the round with the kit's officers"
        )


def save_loaded(path: Path, loaded: LoadedRound, cipher: StateCipher) -> None:
    """Keep the round in the kit's folder, encrypted: its people are personal data."""
    data = {"plan": loaded.signed, "people": [resident_to_map(person) for person in loaded.people]}
    write_atomic(path, cipher.encrypt(codec.dumps(data), context=ROUND_CONTEXT), replace=True)


def load_loaded(
    path: Path, cipher: StateCipher, authority: AuthorityPublic, references: ReferenceKey
) -> LoadedRound | None:
    """The round the kit holds, checked as when it was loaded; None when it holds none.

    StateError (the kit does not start) for a file that does not open, or a round that is
    not the authority's: a kit must never name a round the office did not plan.
    """
    if not path.exists():
        return None
    try:
        data = codec.loads(
            cipher.decrypt(path.read_bytes(), context=ROUND_CONTEXT), max_bytes=64 * 1024 * 1024
        )
        people = tuple(resident_from_map(dict(person)) for person in data["people"])
        return loaded_round(data["plan"], people, authority, references)
    except (StateDecryptError, RoundError, KeyError, TypeError, ValueError) as exc:
        raise StateError(
            f"the kit's round {path} is damaged or not the authority's ({exc}): load the round "
            "again with jemput-prov round load, or flash the kit"
        ) from exc
