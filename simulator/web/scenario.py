"""Training scenarios: who comes to the kit, and which faults happen at which step.

A trainer prepares a day as a TOML file (see docs/simulator.md and the ones shipped in
``simulator/web/scenarios/``)::

    name = "Kabel sensor sidik jari lepas"
    about = "Petunjuk untuk pelatih, dalam Bahasa Indonesia."
    about_en = "The same for the trainer, in English (optional)."

    [[arrivals]]
    resident = 1            # the n-th resident of the simulated worklist (from 1)

    [[arrivals]]
    nik = "3505..."         # or a NIK of the simulated world

    [[faults]]
    arrival = 2             # when the scenario's 2nd arrival ...
    step = "fingers"        # ... reaches this step: face, fingers, signature or review
    device = "fingerprint"
    kind = "unplugged"
    clear_after = 40        # optional: seconds until the fault is cleared

    [[faults]]
    after_records = 1       # or: after this many enrolments finished (DONE shown, printed)
    device = "card-printer"
    kind = "out-of-cards"

Why steps and not seconds: a fault timed from boot fires while one trainee still keys a
PIN and another is on the third person, so the lesson is missed or lands elsewhere.  A
step of a named person's recording happens to every trainee at the same point.

The scenario ends when every arrival has been sealed and every fault has happened.  A
file that does not fit is refused with the line's meaning named, never half-loaded.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from capture.controller import Controller
from capture.machine import CaptureState
from hw_sim.wired import WiredKit
from hw_sim.world import Person, World
from simulator.web.texts import DEVICES, FAULTS, Note

#: The steps of one person's recording a fault may wait for, in the flow's order.  A step
#: the ticker does not see (a KIA has no fingers, a fast kit passes a step between two
#: looks) counts as reached when the person is seen at a later one, or finished.
STEPS: tuple[CaptureState, ...] = (
    CaptureState.FACE,
    CaptureState.FINGERS,
    CaptureState.SIGNATURE,
    CaptureState.REVIEW,
)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Fault:
    """A fault and when it starts: after ``after_records`` enrolments finished (their
    print out too), or when arrival number ``arrival`` (from 1) reaches ``step``."""

    device: str
    kind: str
    after_records: int | None = None
    arrival: int | None = None
    step: CaptureState | None = None
    clear_after: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A training day: ``about`` is the trainer's instructions in Bahasa Indonesia,
    ``about_en`` in English (empty: the page shows ``about``)."""

    name: str
    about: str
    arrivals: tuple[Person, ...]
    faults: tuple[Fault, ...]
    about_en: str = ""


def shipped() -> dict[str, str]:
    """The scenarios that come with the project: file stem -> file name."""
    folder = resources.files("simulator.web").joinpath("scenarios")
    return {
        Path(entry.name).stem: entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def scenario_text(name_or_path: str) -> tuple[str, str]:
    """The TOML text of a shipped scenario (by name) or a file; (text, where) for messages."""
    names = shipped()
    if name_or_path in names:
        entry = resources.files("simulator.web").joinpath("scenarios", names[name_or_path])
        return entry.read_text("utf-8"), f"scenario {name_or_path!r}"
    path = Path(name_or_path)
    try:
        return path.read_text("utf-8"), str(path)
    except FileNotFoundError:
        raise ScenarioError(
            f"no scenario {name_or_path!r}: give a file, or one of {', '.join(sorted(names))}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from None


def load_scenario(name_or_path: str, world: World) -> Scenario:
    """Parse and check a scenario against ``world`` (its residents, the kit's devices)."""
    text, where = scenario_text(name_or_path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where} is not valid TOML: {exc}") from None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f'{where}: give the scenario a name (name = "...")')
    arrivals = tuple(
        _arrival(entry, world, f"{where}, arrival {n}")
        for n, entry in enumerate(_tables(raw, "arrivals", where), start=1)
    )
    if not arrivals:
        raise ScenarioError(f"{where}: a scenario needs at least one [[arrivals]] entry")
    faults = tuple(
        _fault(entry, len(arrivals), f"{where}, fault {n}")
        for n, entry in enumerate(_tables(raw, "faults", where), start=1)
    )
    return Scenario(
        name, _text(raw, "about", where), arrivals, faults, _text(raw, "about_en", where)
    )


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ScenarioError(f'{where}: {key} must be text ({key} = "...")')
    return value.strip()


def _tables(raw: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    tables = raw.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ScenarioError(f"{where}: {key} must be [[{key}]] tables")
    return tables


def _arrival(entry: dict[str, Any], world: World, where: str) -> Person:
    if "resident" in entry:
        number = entry["resident"]
        if not isinstance(number, int) or not 1 <= number <= len(world.residents):
            raise ScenarioError(
                f"{where}: resident must be 1 to {len(world.residents)}, not {number!r}"
            )
        return world.residents[number - 1]
    nik = entry.get("nik")
    person = world.person(str(nik)) if nik is not None else None
    if person is None:
        raise ScenarioError(f"{where}: give resident = N or the nik of someone in the world")
    return person


def _seconds(entry: dict[str, Any], key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ScenarioError(f"{where}: {key} must be a number of seconds, 0 or more")
    return float(value)


def _whole(entry: dict[str, Any], key: str, low: int, high: int, where: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScenarioError(f"{where}: {key} must be a whole number from {low} to {high}")
    return value


def _fault(entry: dict[str, Any], arrivals: int, where: str) -> Fault:
    device, kind = entry.get("device"), entry.get("kind")
    kinds = WiredKit.DEVICE_FAULTS.get(str(device))
    if kinds is None:
        raise ScenarioError(
            f"{where}: device {device!r} is not one of {', '.join(WiredKit.DEVICE_FAULTS)}"
        )
    if kind not in kinds:
        raise ScenarioError(f"{where}: {device} fault {kind!r} is not one of {', '.join(kinds)}")
    if "at" in entry:
        raise ScenarioError(
            f"{where}: at = SECONDS from the start is no longer taken (a trainee still keying "
            'a PIN misses it): say arrival = N and step = "fingers", or after_records = N'
        )
    after = _whole(entry, "after_records", 0, 1000, where)
    arrival = _whole(entry, "arrival", 1, arrivals, where)
    step = _step(entry.get("step"), where)
    if (after is None) == (arrival is None) or (arrival is None) != (step is None):
        raise ScenarioError(
            f'{where}: say when, with arrival = N and step = "...", or after_records = N'
        )
    return Fault(
        str(device), str(kind), after, arrival, step, _seconds(entry, "clear_after", where)
    )


def _step(name: object, where: str) -> CaptureState | None:
    if name is None:
        return None
    step = next((s for s in STEPS if s.value == name), None)
    if step is None:
        allowed = ", ".join(s.value for s in STEPS)
        raise ScenarioError(f"{where}: step {name!r} is not one of {allowed}")
    return step


@dataclass
class Progress:
    """A scenario under way, driven by :meth:`tick` with the kit's controller: who has
    been recorded, how far each arrival got, which faults have happened."""

    scenario: Scenario
    #: Residents whose enrolment ended on the DONE screen, in order: "after N records".
    enrolled: list[str] = field(default_factory=list)
    #: Per NIK, the furthest of `STEPS` the person was seen at (its index).
    furthest: dict[str, int] = field(default_factory=dict)
    fired: dict[int, float] = field(default_factory=dict)  # fault index -> when
    cleared: set[int] = field(default_factory=set)
    _last_seq: int | None = None
    _ended: bool = False

    def tick(self, *, now: float, controller: Controller, wired: WiredKit) -> list[Note]:
        """Look at the kit (``now`` on the monotonic clock), start and clear the faults
        that are due; returns what happened, for the event log."""
        notes = self._watch(controller)
        for index, fault in enumerate(self.scenario.faults):
            if index not in self.fired and self._due(fault, printing=controller.working_behind):
                wired.inject(fault.device, fault.kind)
                self.fired[index] = now
                device, kind = DEVICES[fault.device], FAULTS[fault.kind]
                notes.append(Note("scenario.fault", device=device, kind=kind))
            elif (
                index in self.fired
                and index not in self.cleared
                and fault.clear_after is not None
                and now - self.fired[index] >= fault.clear_after
            ):
                wired.clear_faults(fault.device)
                self.cleared.add(index)
                notes.append(Note("scenario.repaired", device=DEVICES[fault.device]))
        if self.finished and not self._ended:
            self._ended = True
            notes.append(Note("scenario.finished", name=self.scenario.name))
        return notes

    def _watch(self, controller: Controller) -> list[Note]:
        """Note how far the person at the kit got, and an enrolment that just ended."""
        state, draft, sealed = controller.state, controller.draft, controller.sealed
        if draft is None:
            return []
        nik = draft.resident.nik
        if state in STEPS:
            self.furthest[nik] = max(self.furthest.get(nik, 0), STEPS.index(state))
        if state is not CaptureState.DONE or sealed is None or sealed.seq == self._last_seq:
            return []
        self._last_seq = sealed.seq
        self.enrolled.append(nik)
        if nik not in {p.nik for p in self.scenario.arrivals}:
            return []
        return [Note("scenario.recorded", name=draft.resident.name, nik=nik)]

    def _due(self, fault: Fault, *, printing: bool) -> bool:
        """Whether ``fault`` starts now; "after N records" waits for the last one's print
        (it runs behind the done screen), so that record's card is not the one it hits."""
        if fault.after_records is not None:
            return not printing and len(self.enrolled) >= fault.after_records
        assert fault.arrival is not None and fault.step is not None  # as loaded
        nik = self.scenario.arrivals[fault.arrival - 1].nik
        reached = self.furthest.get(nik, -1) >= STEPS.index(fault.step)
        return reached or nik in self.enrolled

    @property
    def done_niks(self) -> set[str]:
        """The scenario's arrivals recorded so far."""
        return {p.nik for p in self.scenario.arrivals} & set(self.enrolled)

    @property
    def finished(self) -> bool:
        """Every arrival recorded and every fault happened."""
        return len(self.done_niks) == len(self.scenario.arrivals) and len(self.fired) == len(
            self.scenario.faults
        )

    def view(self) -> dict[str, Any]:
        """The banner, the trainer's instructions and the queue, for the page."""
        done = self.done_niks
        return {
            "name": self.scenario.name,
            "about": {"id": self.scenario.about, "en": self.scenario.about_en},
            "queue": [
                {"nik": p.nik, "name": p.name, "done": p.nik in done}
                for p in self.scenario.arrivals
            ],
            "faults_fired": len(self.fired),
            "faults": len(self.scenario.faults),
            "finished": self.finished,
        }
