"""The simulated world in front of the kit: residents, officers, a clock and a battery.

Everything is derived from one seed, so a demo or a failing test can be replayed exactly.
People are plain data built from `hal` types and the shared words of `vocabulary` (sex,
role, purpose, disability) only: the simulated world may not import `storage`.
`simulator.kit` turns them into worklist rows when it provisions a demo kit.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hal.types import FingerPosition
from hw_sim.fingers import Finger, FingerCondition, Glass
from vocabulary.people import Role, Sex
from vocabulary.purpose import Purpose
from vocabulary.rounds import Disability

#: Kabupaten Blitar (3505), Jawa Timur (35): the seed's outreach area.  The district and
#: village names are real places of the regency; their 6-digit codes here are illustrative.
PROVINCE = "JAWA TIMUR"
REGENCY = "KABUPATEN BLITAR"
DISTRICTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("350510", "KANIGORO", ("SATREYAN", "GOGODESO", "BANGGLE")),
    ("350511", "TALUN", ("JABUNG", "BABADAN", "BAJANG")),
    ("350512", "SELOPURO", ("POPOH", "MRONJO", "JATITENGAH")),
)
_MALE = ("AGUS", "BUDI", "DWI", "EKO", "FAJAR", "HADI", "IWAN", "JOKO", "RUDI", "SLAMET", "TEGUH")
_FEMALE = ("ANI", "DEWI", "ENDANG", "FITRI", "INDAH", "LESTARI", "NUR", "SITI", "SRI", "WATI")
_FAMILY = ("SANTOSO", "WIJAYA", "SETIAWAN", "PRATAMA", "RAHAYU", "HARTONO", "WAHYUNI", "PURNOMO")
_OCCUPATIONS = ("PETANI/PEKEBUN", "PELAJAR/MAHASISWA", "WIRASWASTA", "MENGURUS RUMAH TANGGA")
_RELIGIONS = ("ISLAM", "ISLAM", "ISLAM", "KRISTEN", "KATOLIK", "HINDU")
_BLOOD = ("A", "B", "AB", "O", "-")

#: Signature pad coordinate range the simulated pens write in.
PAD_WIDTH, PAD_HEIGHT = 2048, 768


@dataclass(frozen=True)
class Person:
    """A simulated resident: demographics as the worklist names them, and a body to capture.

    ``on_worklist`` is False for a walk-in, who is not on the village's pre-registration.
    """

    seed: int
    nik: str
    name: str
    sex: Sex
    birth_place: str
    birth_date: date
    district: str
    village: str
    address: str
    rt_rw: str
    religion: str
    occupation: str
    blood_type: str
    on_worklist: bool = True
    fingers: dict[int, FingerCondition] = field(default_factory=dict)
    signature: tuple[tuple[tuple[int, int], ...], ...] = ()
    #: Status perkawinan as the worklist names it (a child's is BELUM KAWIN).
    marital_status: str = "KAWIN"
    #: Keperluan (a walk-in says it at the kit).
    purpose: Purpose = Purpose.BARU
    #: False for someone who cannot sign on the pad (a supervisor's exception).
    can_sign: bool = True
    #: The occupation the worklist wrongly gives (corrected at review), or "".
    listed_occupation: str = ""
    #: A walk-in from another regency: the number on their Kartu Keluarga's copy.
    kk_number: str = ""
    #: A disability they (or their companion) declare at the kit, from the registry's list.
    disability: Disability | None = None
    #: Photographed seated (a wheelchair, a bed): the officer says so at the kit.
    seated: bool = False

    def condition(self, position: int) -> FingerCondition:
        return self.fingers.get(position, FingerCondition.OK)


@dataclass(frozen=True)
class SimOfficer:
    """A simulated officer: who logs in, with which PIN, and whose fingers the sensor knows."""

    officer_id: str
    name: str
    role: Role
    pin: str
    seed: int

    @property
    def login_finger(self) -> FingerPosition:
        return FingerPosition.RIGHT_INDEX


class SimClock:
    """The kit's clock in the simulator: real time from a start, plus steps tests take.

    ``speed`` 0 freezes real time, so only :meth:`step` moves it (tests); 1 follows the
    wall clock (``make run``).
    """

    def __init__(self, start: datetime, *, speed: float = 1.0) -> None:
        self._start = start  # the time at _origin, steps included
        self._speed = speed
        self._origin = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._origin) * self._speed
            return self._start + timedelta(seconds=elapsed)

    def step(self, seconds: float) -> None:
        with self._lock:
            self._start += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        with self._lock:
            self._start, self._origin = when, time.monotonic()


class SimBattery:
    """A battery that drains with the simulated clock: ``drain_per_hour`` percent an hour."""

    def __init__(self, clock: SimClock, *, percent: float = 90.0, drain_per_hour: float = 8.0):
        self._clock = clock
        self._percent = percent
        self._drain = drain_per_hour
        self._since = clock.now()

    @property
    def percent(self) -> float:
        hours = (self._clock.now() - self._since).total_seconds() / 3600
        # a clock set back does not charge the cell beyond full
        return max(0.0, min(self._percent - hours * self._drain, 100.0))

    @property
    def rate(self) -> float:
        return -self._drain

    def set_percent(self, percent: float) -> None:
        self._percent, self._since = percent, self._clock.now()

    @property
    def voltage(self) -> float:
        """A Li-ion cell's rough open-circuit voltage for the charge left."""
        return 3.3 + 0.9 * self.percent / 100


class World:
    """Residents, officers, who stands in front of the kit, and the kit's clock and battery.

    ``people`` residents are on the village worklist; ``walk_ins`` more come without being on
    it.  Some fingers are scarred, missing or bandaged, as in any village: the seed decides.
    """

    def __init__(
        self,
        seed: int = 1,
        *,
        people: int = 20,
        walk_ins: int = 2,
        start: datetime | None = None,
        clock_speed: float = 1.0,
        cases: bool = False,
    ) -> None:
        self.seed = seed
        self.clock = SimClock(start or datetime(2026, 11, 23, 1, 30, tzinfo=UTC), speed=clock_speed)
        self.battery = SimBattery(self.clock)
        self._serials: dict[str, int] = {}
        self.residents = [self._make_person(i, on_worklist=True) for i in range(people)]
        self.walk_ins = [self._make_person(people + i, on_worklist=False) for i in range(walk_ins)]
        #: The rules' cases of a real outreach day (children, a lost card, a correction, a
        #: domicile walk-in, an early first-time voter, a married teenager, one who cannot
        #: sign), added to the worklist and the walk-ins when ``cases`` is on.
        self.cases = self._make_cases(people + walk_ins) if cases else []
        self.residents += [p for p in self.cases if p.on_worklist]
        self.walk_ins += [p for p in self.cases if not p.on_worklist]
        self.officers = [
            SimOfficer("PTG-001", "SRI HANDAYANI", Role.OFFICER, "246810", seed * 1000 + 1),
            SimOfficer("SPV-001", "BAMBANG SUTRISNO", Role.SUPERVISOR, "135791", seed * 1000 + 2),
            # The village official (kepala desa), present during recording.
            SimOfficer("KDS-001", "SUPARMAN", Role.OFFICIAL, "112233", seed * 1000 + 3),
        ]
        self._subject: Person | SimOfficer | None = None
        self._follow: Callable[[], Person | SimOfficer | None] | None = None
        self._captures: dict[tuple[int, int], int] = {}
        self._visitors: dict[str, Person] = {}
        #: What is put on the sensor instead of what the world decides (the browser kit's
        #: finger control): the finger's quality, and which finger, whatever was asked.
        self.glass = Glass.AS_BORN
        self.glass_position: FingerPosition | None = None

    def _make_cases(self, first: int) -> list[Person]:
        today = self.clock.now().date()

        def years_ago(years: int, days: int = 0) -> date:
            return today.replace(year=today.year - years, day=min(today.day, 28)) + timedelta(
                days=days
            )

        child: dict[str, object] = {
            "marital_status": "BELUM KAWIN",
            "occupation": "PELAJAR/MAHASISWA",
        }
        specs: list[tuple[date, bool, dict[str, object]]] = [
            (years_ago(10, -40), True, child),
            (years_ago(3, -100), False, {**child, "occupation": "BELUM/TIDAK BEKERJA"}),
            (years_ago(38), False, {"purpose": Purpose.HILANG}),
            (years_ago(45), True, {"occupation": "PEDAGANG", "listed_occupation": "WIRASWASTA"}),
            (years_ago(17, 60), False, child),  # 17 sixty days after the recording day
            (years_ago(16, -20), True, {"marital_status": "KAWIN"}),  # married at 16: e-KTP
            (years_ago(70), False, {"can_sign": False}),
            (years_ago(30), True, {"on_worklist": False, "kk_number": "1671010101200007"}),
        ]
        return [
            self._make_case(first + i, born, female, **extra)
            for i, (born, female, extra) in enumerate(specs)
        ]

    def _make_case(self, index: int, born: date, female: bool, **extra: object) -> Person:
        """A person of a rules case; a domicile walk-in's NIK is of Kota Palembang (1671)."""
        person = self._make_person(index, on_worklist=bool(extra.get("on_worklist", True)))
        code = "167101" if extra.get("kk_number") else person.nik[:6]
        day = born.day + (40 if female else 0)
        prefix = f"{code}{day:02d}{born.month:02d}{born.year % 100:02d}"
        serial = self._serials[prefix] = self._serials.get(prefix, 0) + 1
        firsts = _FEMALE if female else _MALE
        name = f"{firsts[index % len(firsts)]} {_FAMILY[index % len(_FAMILY)]}"
        changes: dict[str, Any] = {
            **extra,
            "nik": f"{prefix}{serial:04d}",
            "name": name,
            "sex": Sex.FEMALE if female else Sex.MALE,
            "birth_date": born,
            "fingers": {},
        }
        return replace(person, **changes)

    def _make_person(self, index: int, *, on_worklist: bool) -> Person:
        rng = random.Random(f"{self.seed}/{index}")
        female = rng.random() < 0.5
        first = rng.choice(_FEMALE if female else _MALE)
        name = f"{first} {rng.choice(_FAMILY)}"
        if rng.random() < 0.2:  # long names exist, and must still fit the card
            name = f"{first} {rng.choice(_FAMILY)} {rng.choice(_FAMILY)}"
            name += " NINGTYAS DWI LESTARI" if female else " SURYO ADIKUSUMO"
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 58))
        code, district, villages = rng.choice(DISTRICTS)
        day = born.day + (40 if female else 0)
        prefix = f"{code}{day:02d}{born.month:02d}{born.year % 100:02d}"
        serial = self._serials[prefix] = self._serials.get(prefix, 0) + 1
        fingers = _hands(rng)
        return Person(
            seed=self.seed * 100_000 + index,
            nik=f"{prefix}{serial:04d}",
            name=name,
            sex=Sex.FEMALE if female else Sex.MALE,
            birth_place="BLITAR",
            birth_date=born,
            district=district,
            village=rng.choice(villages),
            address=f"DUSUN {rng.choice(('KRAJAN', 'SUMBER', 'NGASEM'))} NO. {rng.randint(1, 90)}",
            rt_rw=f"{rng.randint(1, 9):03d}/{rng.randint(1, 5):03d}",
            religion=rng.choice(_RELIGIONS),
            occupation=rng.choice(_OCCUPATIONS),
            blood_type=rng.choice(_BLOOD),
            on_worklist=on_worklist,
            fingers=fingers,
            signature=_signature(rng),
        )

    @property
    def subject(self) -> Person | SimOfficer | None:
        """The person or officer in front of the kit: whose face and fingers the devices see."""
        return self._follow() if self._follow is not None else self._subject

    @subject.setter
    def subject(self, who: Person | SimOfficer | None) -> None:
        self._subject = who

    def subject_seed(self) -> int | None:
        """The seed of whoever stands in front (what the camera photographs), or None."""
        subject = self.subject
        return subject.seed if subject is not None else None

    def follow(self, who: Callable[[], Person | SimOfficer | None] | None) -> None:
        """Let ``who()`` decide who stands in front, at the moment a device looks.

        The simulated kit uses this so the resident the officer selected is the one the
        camera sees, as in a real hall; tests set :attr:`subject` directly instead.
        """
        self._follow = who

    @property
    def everyone(self) -> list[Person]:
        return self.residents + self.walk_ins + list(self._visitors.values())

    def person(self, nik: str) -> Person | None:
        return next((p for p in self.everyone if p.nik == nik), None)

    def body_seed(self, nik: str) -> int:
        """The seed of the body behind ``nik``: a person of this world, or the visitor
        :meth:`visitor` makes for it (what a restarted simulator rebuilds a sensor from)."""
        known = self.person(nik)
        return known.seed if known is not None else _visitor_seed(nik)

    def visitor(self, nik: str, name: str, sex: Sex, birth_date: date) -> Person:
        """Someone this world did not make (a flashed kit's worklist names them): a body for
        them, repeatable from their NIK, so the devices have a face and fingers to capture."""
        if (known := self.person(nik)) is not None:
            return known
        rng = random.Random(f"{self.seed}/visitor/{nik}")
        person = Person(
            seed=_visitor_seed(nik),
            nik=nik,
            name=name,
            sex=sex,
            birth_place="",
            birth_date=birth_date,
            district="",
            village="",
            address="",
            rt_rw="",
            religion="",
            occupation="",
            blood_type="-",
            fingers=_hands(rng),
            signature=_signature(rng),
        )
        self._visitors[nik] = person
        return person

    def officer(self, officer_id: str) -> SimOfficer | None:
        return next((o for o in self.officers if o.officer_id == officer_id), None)

    def finger_on_glass(self, position: FingerPosition | None = None) -> Finger | None:
        """The finger the subject puts on the sensor when asked for ``position``.

        An officer logging in offers their login finger whatever is asked; nobody in
        front means an empty glass.  Each call is a new capture, with fresh noise.
        """
        subject = self.subject
        if subject is None or self.glass is Glass.NONE:
            return None
        if isinstance(subject, SimOfficer):
            position, condition = subject.login_finger, FingerCondition.OK
        else:
            position = self.glass_position or position or FingerPosition.RIGHT_INDEX
            condition = subject.condition(int(position))
        if self.glass is not Glass.AS_BORN:
            condition = FingerCondition.OK if self.glass is Glass.GOOD else FingerCondition.SCARRED
        key = (subject.seed, int(position))
        self._captures[key] = count = self._captures.get(key, -1) + 1
        return Finger(subject.seed, int(position), condition, count)


def _hands(rng: random.Random) -> dict[int, FingerCondition]:
    """Ten fingers as a village has them: now and then a worn or hurt one, rarely two."""
    fingers = {}
    if rng.random() < 0.25:
        for position in rng.sample(range(1, 11), rng.choice((1, 1, 1, 2))):
            fingers[position] = rng.choice(
                (FingerCondition.SCARRED, FingerCondition.MISSING, FingerCondition.BANDAGED)
            )
    return fingers


def _signature(rng: random.Random) -> tuple[tuple[tuple[int, int], ...], ...]:
    """A looping hand-written-looking signature of two or three strokes."""
    strokes = []
    x = rng.randint(150, 400)
    for _ in range(rng.randint(2, 3)):
        points = []
        y0 = rng.randint(250, 500)
        amplitude, wavelength = rng.randint(60, 200), rng.randint(40, 120)
        for step in range(rng.randint(25, 60)):
            x += rng.randint(8, 22)
            y = y0 + int(amplitude * ((step % wavelength) / wavelength - 0.5) * rng.choice((1, -1)))
            points.append((min(x, PAD_WIDTH - 1), max(0, min(y, PAD_HEIGHT - 1))))
        strokes.append(tuple(points))
        x += rng.randint(30, 90)
    return tuple(strokes)


def _visitor_seed(nik: str) -> int:
    """A visitor's seed, from the NIK alone, apart from the world's own people's seeds."""
    return int.from_bytes(nik.encode(), "big") % 10**9 + 10**9
