"""Training scenarios: who comes to the kit, and which faults happen when.

A trainer prepares a day as a TOML file (see docs/simulator.md and the ones shipped in
``simulator/web/scenarios/``)::

    name = "Printer kehabisan kartu"
    about = "Two residents come; the printer runs out of cards after the first."

    [[arrivals]]
    resident = 1            # the n-th resident of the simulated worklist (from 1)

    [[arrivals]]
    nik = "3505..."         # or a NIK of the simulated world

    [[faults]]
    after_records = 1       # when: after this many enrolments finished (DONE shown),
    device = "card-printer" #   or at = SECONDS after the scenario starts
    kind = "out-of-cards"
    clear_after = 30        # optional: seconds until the fault is cleared

The scenario ends when every arrival has been sealed and every fault has happened.  A
file that does not fit is refused with the line's meaning named, never half-loaded.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hw_sim.wired import WiredKit
from hw_sim.world import Person, World


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Fault:
    device: str
    kind: str
    at: float | None = None  # seconds after the start
    after_records: int | None = None
    clear_after: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    arrivals: tuple[Person, ...]
    faults: tuple[Fault, ...]


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
        _fault(entry, f"{where}, fault {n}")
        for n, entry in enumerate(_tables(raw, "faults", where), start=1)
    )
    return Scenario(name, str(raw.get("about", "")), arrivals, faults)


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


def _fault(entry: dict[str, Any], where: str) -> Fault:
    device, kind = entry.get("device"), entry.get("kind")
    kinds = WiredKit.DEVICE_FAULTS.get(str(device))
    if kinds is None:
        raise ScenarioError(
            f"{where}: device {device!r} is not one of {', '.join(WiredKit.DEVICE_FAULTS)}"
        )
    if kind not in kinds:
        raise ScenarioError(f"{where}: {device} fault {kind!r} is not one of {', '.join(kinds)}")
    at = _seconds(entry, "at", where)
    after = entry.get("after_records")
    if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 0):
        raise ScenarioError(f"{where}: after_records must be a whole number, 0 or more")
    if (at is None) == (after is None):
        raise ScenarioError(f"{where}: say when, with either at = SECONDS or after_records = N")
    return Fault(str(device), str(kind), at, after, _seconds(entry, "clear_after", where))


@dataclass
class Progress:
    """A scenario under way: what has happened, driven by :meth:`tick`."""

    scenario: Scenario
    started: float
    done_niks: set[str] = field(default_factory=set)
    fired: dict[int, float] = field(default_factory=dict)  # fault index -> when
    cleared: set[int] = field(default_factory=set)

    def tick(self, *, now: float, finished: list[str], wired: WiredKit) -> list[str]:
        """Advance to ``now``, with ``finished`` the residents enrolled so far (in order);
        returns what happened, for the event log."""
        notes = []
        wanted = {p.nik for p in self.scenario.arrivals}
        for nik in set(finished) & wanted - self.done_niks:
            self.done_niks.add(nik)
            notes.append(f"scenario: {nik} recorded")
        elapsed = now - self.started
        for index, fault in enumerate(self.scenario.faults):
            due = (fault.at is not None and elapsed >= fault.at) or (
                fault.after_records is not None and len(finished) >= fault.after_records
            )
            if index not in self.fired and due:
                wired.inject(fault.device, fault.kind)
                self.fired[index] = now
                notes.append(f"scenario: fault {fault.device}:{fault.kind}")
            elif (
                index in self.fired
                and index not in self.cleared
                and fault.clear_after is not None
                and now - self.fired[index] >= fault.clear_after
            ):
                wired.clear_faults(fault.device)
                self.cleared.add(index)
                notes.append(f"scenario: {fault.device} repaired")
        return notes

    @property
    def finished(self) -> bool:
        return len(self.done_niks) == len(self.scenario.arrivals) and len(self.fired) == len(
            self.scenario.faults
        )

    def view(self) -> dict[str, Any]:
        """The banner and the queue, for the page."""
        return {
            "name": self.scenario.name,
            "about": self.scenario.about,
            "queue": [
                {"nik": p.nik, "name": p.name, "done": p.nik in self.done_niks}
                for p in self.scenario.arrivals
            ],
            "faults_fired": len(self.fired),
            "faults": len(self.scenario.faults),
            "finished": self.finished,
        }
