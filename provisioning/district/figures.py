"""The district's figures: coverage, blank cards and days, computed once for every format.

Why one `Figures` object: the table, the CSV, the JSON, the HTML page and the national
roll-up are all renderings of it, so the page an office head opens and the file a script
reads cannot disagree.

Why from the audit: every figure is counted from what `provisioning.district.audit`
derived from signed bytes, never from a column of the store, and only once the audit
found no problem (`report_figures`; a store that fails is refused, as `report` refuses a
laptop's database).  The audit writes what it derived into tables of its own session
(`provisioning.district.audited`), and the counting runs in SQL over those (a few GROUP
BYs over the live records), so a national store with millions of residents answers in one
pass, in one snapshot on PostgreSQL; only the handful of rows per village is rolled up to
kecamatan, kabupaten/kota and district in Python.

What counts: a record voided by a later one of its chain does not, nor the voiding one
(as in `provisioning.report`).  A registered resident is *recorded* when any kit holds a
live record for their worklist reference; *printed* when the card of such a record is in
its kit's signed ledger; *excepted* when such a record notes a finger exception.
Walk-ins have no worklist line; they count under the kabupaten/kota of the kit's region.
Blank cards are each kit's latest signed ledger (per certificate chain, summed per kit, and
per kabupaten/kota by the kits' region).

The fleet is each kit's latest status at a collection (`provisioning.district.arrival`),
the newest by the laptop's signed time: a kit is *behind* when its version is below the
newest any kit of the district runs, and *below the minimum* when it is below the
authority's minimum (the highest minimum any kit holds: the authority signs it into each
update it sends, so a kit not updated since runs what the authority no longer allows: the
more urgent of the two); *stale* when that collection is more than ``stale_days`` old;
*drifted* when its clock was more than a minute from the laptop's; *revoked* when the
authority's revocation list names it.  A version that is no release (a simulator's
package version) is shown but never compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, select
from sqlalchemy.sql import Subquery

from kitlink.protocol import MessageError
from kitlink.release import Version
from provisioning.district import audited
from provisioning.district.after_day import after_day
from provisioning.district.audit import AuditedStatus, StoreAudit, audit_store
from provisioning.district.pipeline import (
    RegencyCards,
    VillagePipeline,
    findings,
    regency_cards,
    village_pipeline,
)
from provisioning.district.reconcile import Holding
from provisioning.district.round_figures import RoundFigures, round_figures
from provisioning.district.rows import GROUP_COLUMNS
from provisioning.district.store import DistrictStore
from storage.keys import AuthorityPublic
from storage.reference import ReferenceKey

#: Kits and kabupaten/kota that printed fewer cards than this are flagged (the ministry's
#: watch list: 22 regencies had printed fewer than 15).
CARD_THRESHOLD = 15
WALK_IN_VILLAGE = "(walk-in)"
#: Kits not collected for more than this many days are flagged (`--stale-days`).
STALE_DAYS = 14
#: Kits whose clock was further than this from the laptop's at a collection are flagged.
DRIFT_SECONDS = 60


class Level(StrEnum):
    """Where a row counts: a place, from a village up to the whole store, or one kit."""

    KIT = "kit"
    VILLAGE = "village"
    KECAMATAN = "kecamatan"
    KABKOTA = "kabkota"
    DISTRICT = "district"


@dataclass
class Coverage:
    """Coverage of one place; ``registered`` residents are those on registered worklists."""

    level: Level
    regency_code: str
    regency: str
    kecamatan: str
    village: str
    registered: int = 0
    recorded: int = 0
    printed: int = 0
    excepted: int = 0
    walk_ins: int = 0

    @property
    def missing(self) -> int:
        return self.registered - self.recorded

    @property
    def share_recorded(self) -> float | None:
        return round(100.0 * self.recorded / self.registered, 1) if self.registered else None

    def add(self, other: Coverage) -> None:
        self.registered += other.registered
        self.recorded += other.recorded
        self.printed += other.printed
        self.excepted += other.excepted
        self.walk_ins += other.walk_ins

    def as_map(self) -> dict[str, Any]:
        return {**asdict(self), "missing": self.missing, "share_recorded": self.share_recorded}


@dataclass
class Cards:
    """Blank cards of one kit (``level`` KIT), of the kits of one kabupaten/kota (KABKOTA,
    ``region`` its code) or of the whole store (DISTRICT).  ``flagged``: fewer cards
    printed than the threshold, for a kit or a kabupaten/kota alike; None for the whole
    store, which the threshold does not judge (its table shows "-", not "tidak")."""

    level: Level
    kit_id: str | None
    region: str
    regency: str = ""
    kits: int = 0
    loaded: int = 0
    printed: int = 0
    spoiled: int = 0
    unknown: int = 0
    flagged: bool | None = False

    @property
    def share_used(self) -> float | None:
        """Cards printed of cards loaded, as the ministry quotes it."""
        return round(100.0 * self.printed / self.loaded, 1) if self.loaded else None

    def add(self, ledger: dict[str, Any]) -> None:
        self.loaded += ledger["loaded"]
        self.printed += ledger["printed"]
        self.spoiled += ledger["spoiled"]
        self.unknown += ledger["unresolved"]

    def as_map(self) -> dict[str, Any]:
        return {**asdict(self), "share_used": self.share_used}


@dataclass
class Day:
    """One day's live records (by the kit's sealing date), district-wide or of one kit:
    ``recorded`` those of registered residents, ``walk_ins`` the others (as in coverage,
    though here each record counts: a resident recorded by two kits counts on both)."""

    day: date
    kit_id: str | None
    recorded: int = 0
    walk_ins: int = 0
    printed: int = 0
    excepted: int = 0

    def as_map(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}


class FleetFlag(StrEnum):
    """Why a kit is flagged in the fleet table; the value is its column's key."""

    BEHIND = "behind"
    BELOW_MINIMUM = "below_minimum"
    STALE = "stale"
    DRIFTED = "drifted"
    REVOKED = "revoked"


@dataclass
class FleetKit:
    """One kit's latest status at a collection, as the kit and the laptop signed it."""

    kit_id: str
    region: str
    version: str
    pico_version: str | None
    #: The lowest version the authority allows on this kit, as the kit holds it.
    minimum: str | None
    #: The laptop's time when the kit's status arrived, and whole days since.
    collected_at: datetime
    days: int
    #: Blank cards left, from the kit's card ledger.
    stock: int | None
    battery_percent: int | None
    battery_millivolts: int | None
    #: The kit's clock minus the laptop's, in seconds.
    drift: int
    flags: set[FleetFlag] = field(default_factory=set)

    def as_map(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "flags"},
            "collected_at": self.collected_at.isoformat(timespec="seconds"),
            **{flag.value: flag in self.flags for flag in FleetFlag},
            "flagged": bool(self.flags),
        }


@dataclass
class Figures:
    """Everything the district report shows."""

    generated_at: datetime
    threshold: int
    coverage: list[Coverage] = field(default_factory=list)
    cards: list[Cards] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    #: Per round, and rolled up per venue kind, kecamatan and day (`round_figures`).
    rounds: list[RoundFigures] = field(default_factory=list)
    records: int = 0
    forks: int = 0
    #: The audited sync log's length and head (hex): a report sent later with fewer
    #: statements, or another head for as many, was made of a store that went back.
    log_length: int = 0
    log_head: str | None = None
    fleet: list[FleetKit] = field(default_factory=list)
    stale_days: int = STALE_DAYS
    #: The newest release any kit runs, and the authority's minimum: what "behind" and
    #: "below the minimum" are measured against (None when no kit reports one).
    newest_version: str | None = None
    minimum_version: str | None = None
    #: After the day (`provisioning.district.pipeline`): each village's cards on their way,
    #: each regency's blank cards, the serials' holders, and every finding with what to do.
    pipeline: list[VillagePipeline] = field(default_factory=list)
    regency_cards: list[RegencyCards] = field(default_factory=list)
    blank_holders: list[Holding] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def of(self, level: Level) -> list[Coverage]:
        return [row for row in self.coverage if row.level is level]

    @property
    def district(self) -> Coverage:
        return self.of(Level.DISTRICT)[0]

    @property
    def district_cards(self) -> Cards:
        return next(c for c in self.cards if c.level is Level.DISTRICT)

    def as_map(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "threshold": self.threshold,
            "records": self.records,
            "forks": self.forks,
            "sync_log": {"statements": self.log_length, "head": self.log_head},
            "coverage": [row.as_map() for row in self.coverage],
            "cards": [row.as_map() for row in self.cards],
            "days": [row.as_map() for row in self.days],
            "fleet": [kit.as_map() for kit in self.fleet],
            "fleet_measures": {
                "stale_days": self.stale_days,
                "drift_seconds": DRIFT_SECONDS,
                "newest_version": self.newest_version,
                "minimum_version": self.minimum_version,
            },
            "rounds": [row.as_map() for row in self.rounds],
            "pipeline": [row.as_map() for row in self.pipeline],
            "regency_cards": [row.as_map() for row in self.regency_cards],
            "blank_holders": [row.as_map() for row in self.blank_holders],
            "findings": self.findings,
        }


def live_records() -> Subquery:
    """Live records with their card and exception flags (voided and voiding ones left out),
    their round and groups (`provisioning.district.round_figures`)."""
    r, v = audited.records.alias("r"), audited.records.alias("v")
    c = audited.cards.alias("c")
    voided = exists().where(
        and_(v.c.province == r.c.province, v.c.chain == r.c.chain, v.c.voids == r.c.seq)
    )
    card = exists().where(
        and_(c.c.province == r.c.province, c.c.chain == r.c.chain, c.c.seq == r.c.seq)
    )
    return (
        select(
            r.c.province,
            r.c.chain,
            r.c.day,
            func.substr(r.c.region, 1, 4).label("regency_code"),
            r.c.ref_digest,
            case((r.c.walk_in, 1), else_=0).label("walk_in"),
            case((r.c.excepted > 0, 1), else_=0).label("excepted"),
            case((card, 1), else_=0).label("printed"),
            r.c.walk_in_ref,
            r.c.round_code,
            *(case((r.c[column], 1), else_=0).label(column) for column in GROUP_COLUMNS.values()),
        )
        .where(r.c.voids.is_(None), ~voided)
        .subquery("live")
    )


def _villages(connection: Any, live: Subquery, summary: list[_Part]) -> list[Coverage]:
    per_ref = (
        select(
            live.c.ref_digest,
            func.max(live.c.printed).label("printed"),
            func.max(live.c.excepted).label("excepted"),
        )
        .where(live.c.ref_digest.is_not(None), live.c.walk_in == 0)
        .group_by(live.c.ref_digest)
        .subquery("per_ref")
    )
    res = audited.residents
    place = (res.c.regency_code, res.c.regency, res.c.district, res.c.village)
    query = (
        select(
            *place,
            func.count().label("registered"),
            func.count(per_ref.c.ref_digest).label("recorded"),
            func.coalesce(func.sum(per_ref.c.printed), 0).label("printed"),
            func.coalesce(func.sum(per_ref.c.excepted), 0).label("excepted"),
        )
        .select_from(res.outerjoin(per_ref, per_ref.c.ref_digest == res.c.ref_digest))
        .group_by(*place)
    )
    rows = [
        Coverage(Level.VILLAGE, code, regency, kecamatan, village, n, rec, int(pr), int(ex))
        for code, regency, kecamatan, village, n, rec, pr, ex in connection.execute(query)
    ]
    names = {row.regency_code: row.regency for row in rows}
    walk_ins: dict[str, Coverage] = {}
    for part in summary:
        if part.walk_in:
            row = walk_ins.setdefault(
                part.regency_code,
                Coverage(Level.VILLAGE, part.regency_code,
                         names.get(part.regency_code, part.regency_code), "", WALK_IN_VILLAGE),
            )  # fmt: skip
            row.walk_ins += part.records
            row.printed += part.printed
            row.excepted += part.excepted
    rows.extend(walk_ins.values())
    return rows


def _rolled_up(villages: list[Coverage]) -> list[Coverage]:
    """Villages, then each kecamatan, each kabupaten/kota and the district, in name order."""
    villages.sort(key=lambda r: (r.regency, r.kecamatan, r.village))
    kecamatan: dict[tuple[str, str], Coverage] = {}
    kabkota: dict[str, Coverage] = {}
    district = Coverage(Level.DISTRICT, "", "", "", "")
    for row in villages:
        if row.kecamatan:
            key = (row.regency_code, row.kecamatan)
            kecamatan.setdefault(
                key, Coverage(Level.KECAMATAN, row.regency_code, row.regency, row.kecamatan, "")
            ).add(row)
        kabkota.setdefault(
            row.regency_code, Coverage(Level.KABKOTA, row.regency_code, row.regency, "", "")
        ).add(row)
        district.add(row)
    return [
        *villages,
        *sorted(kecamatan.values(), key=lambda r: (r.regency, r.kecamatan)),
        *sorted(kabkota.values(), key=lambda r: r.regency),
        district,
    ]


def _cards(ledgers: list[dict[str, Any]], names: dict[str, str], threshold: int) -> list[Cards]:
    """Each kit's cards from its chains' latest signed ledgers, each kabupaten/kota's (by
    its kits' region) and the store's; kits and kabupaten/kota below ``threshold`` flagged."""
    latest: dict[bytes, dict[str, Any]] = {}
    for ledger in ledgers:  # newest first per chain
        latest.setdefault(ledger["chain"], ledger)
    kits: dict[str, Cards] = {}
    regencies: dict[str, Cards] = {}
    total = Cards(Level.DISTRICT, None, "", flagged=None)
    for ledger in latest.values():
        code = ledger["region"][:4]
        kit = kits.setdefault(
            ledger["kit_id"],
            Cards(Level.KIT, ledger["kit_id"], ledger["region"], names.get(code, code), kits=1),
        )
        regency = regencies.setdefault(
            code, Cards(Level.KABKOTA, None, code, names.get(code, code))
        )
        for row in (kit, regency, total):
            row.add(ledger)
    for regency in regencies.values():
        regency.kits = sum(kit.region[:4] == regency.region for kit in kits.values())
    total.kits = len(kits)
    for row in (*kits.values(), *regencies.values()):
        row.flagged = row.printed < threshold
    return [
        *sorted(kits.values(), key=lambda k: k.kit_id or ""),
        *sorted(regencies.values(), key=lambda r: (r.regency, r.region)),
        total,
    ]


@dataclass(frozen=True)
class _Part:
    """Live records of one day, chain, regency and walk-in flag: one scan serves them all."""

    day: date
    kit_id: str
    regency_code: str
    walk_in: bool
    records: int
    printed: int
    excepted: int


def _summary(connection: Any, live: Subquery, kits: dict[tuple[str, bytes], str]) -> list[_Part]:
    keys = (live.c.day, live.c.province, live.c.chain, live.c.regency_code, live.c.walk_in)
    query = select(
        *keys, func.count(), func.sum(live.c.printed), func.sum(live.c.excepted)
    ).group_by(*keys)
    return [
        _Part(
            day if isinstance(day, date) else date.fromisoformat(day),
            kits[(province, chain)],
            code,
            bool(walk_in),
            int(count),
            int(printed),
            int(excepted),
        )
        for day, province, chain, code, walk_in, count, printed, excepted in connection.execute(
            query
        )
    ]


def _days(summary: list[_Part]) -> list[Day]:
    days: dict[tuple[date, str | None], Day] = {}
    for part in summary:
        for kit_id in (None, part.kit_id):
            day = days.setdefault((part.day, kit_id), Day(part.day, kit_id))
            if part.walk_in:
                day.walk_ins += part.records
            else:
                day.recorded += part.records
            day.printed += part.printed
            day.excepted += part.excepted
    return sorted(days.values(), key=lambda d: (d.day, d.kit_id or ""))


def _release(text: str) -> Version | None:
    """``text`` as a release's version; None for a version that is no release (a
    simulator's or a developer's package version)."""
    try:
        return Version.parse(text)
    except MessageError:
        return None


def _fleet(
    statuses: list[AuditedStatus], revoked: frozenset[str], now: datetime, stale_days: int
) -> tuple[list[FleetKit], Version | None, Version | None]:
    """Each kit's latest status, flagged; the newest version and the authority's minimum."""
    latest: dict[str, AuditedStatus] = {}
    for audited_status in statuses:
        held = latest.get(audited_status.kit_id)
        if held is None or audited_status.kept.collected_at > held.kept.collected_at:
            latest[audited_status.kit_id] = audited_status
    software = [each.kept.status.software for each in latest.values()]
    newest = max(filter(None, (_release(s.version) for s in software)), default=None)
    minimum = max(filter(None, (s.minimum for s in software)), default=None)
    kits = []
    for kit_id, each in sorted(latest.items()):
        status, kept = each.kept.status, each.kept
        version = _release(status.software.version)
        kit = FleetKit(
            kit_id=kit_id,
            region=each.region,
            version=status.software.version,
            pico_version=status.software.pico_version,
            minimum=None if status.software.minimum is None else str(status.software.minimum),
            collected_at=kept.collected_at,
            days=(now - kept.collected_at).days,
            stock=status.cards.get("stock"),
            battery_percent=status.battery.percent if status.battery else None,
            battery_millivolts=status.battery.millivolts if status.battery else None,
            drift=kept.drift_seconds,
        )
        if version is not None and newest is not None and version < newest:
            kit.flags.add(FleetFlag.BEHIND)
        if version is not None and minimum is not None and version < minimum:
            kit.flags.add(FleetFlag.BELOW_MINIMUM)
        if now - kept.collected_at > timedelta(days=stale_days):
            kit.flags.add(FleetFlag.STALE)
        if abs(kit.drift) > DRIFT_SECONDS:
            kit.flags.add(FleetFlag.DRIFTED)
        if kit_id in revoked:
            kit.flags.add(FleetFlag.REVOKED)
        kits.append(kit)
    return kits, newest, minimum


def build_figures(
    connection: Connection,
    audit: StoreAudit,
    *,
    threshold: int = CARD_THRESHOLD,
    stale_days: int = STALE_DAYS,
) -> Figures:
    """The figures of what ``audit`` derived into the audited tables of ``connection``."""
    live = live_records()
    summary = _summary(connection, live, audit.kits)
    coverage = _rolled_up(_villages(connection, live, summary))
    day = after_day(connection, audit)
    now = datetime.now(UTC)
    names = {row.regency_code: row.regency for row in coverage if row.level is Level.KABKOTA}
    now = datetime.now(UTC)
    fleet, newest, minimum = _fleet(audit.statuses, audit.revoked, now, stale_days)
    return Figures(
        generated_at=now,
        threshold=threshold,
        coverage=coverage,
        cards=_cards(audit.ledgers, names, threshold),
        days=_days(summary),
        rounds=round_figures(connection, live),
        records=sum(part.records for part in summary),
        forks=len(audit.forks),
        log_length=audit.log_length,
        log_head=audit.log_shown,
        fleet=fleet,
        stale_days=stale_days,
        newest_version=None if newest is None else str(newest),
        minimum_version=None if minimum is None else str(minimum),
        pipeline=village_pipeline(day, now),
        regency_cards=regency_cards(day, names, threshold),
        blank_holders=day.blanks.holdings,
        findings=findings(day),
    )


def report_figures(
    store: DistrictStore,
    authority: AuthorityPublic,
    references: ReferenceKey,
    *,
    where: str,
    threshold: int = CARD_THRESHOLD,
    stale_days: int = STALE_DAYS,
) -> Figures:
    """Audit the store, then count what the audit derived, in one snapshot.

    StoreRefused, and no figure, if the audit finds any problem.  ``where`` names the
    store in messages (its URL without secrets).
    """
    with store.snapshot() as connection, audited.tables(connection) as sink:
        audit = audit_store(connection, authority, references, where=where, sink=sink)
        return build_figures(
            connection, audit.require_ok(), threshold=threshold, stale_days=stale_days
        )


__all__ = [
    "CARD_THRESHOLD",
    "DRIFT_SECONDS",
    "STALE_DAYS",
    "Cards",
    "Coverage",
    "Day",
    "Figures",
    "FleetFlag",
    "FleetKit",
    "Level",
    "build_figures",
    "report_figures",
]
