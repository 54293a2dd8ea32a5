"""The rules a kit's policy keeps: one table, checked where a policy is written and read.

Why one place: a policy reaches a kit in the technician's TOML (`jemput-prov flash
--policy`), in the flash request and in the profile the kit boots from.  Checked in none of
them, ``finger_retries = -1`` flashed and then stopped every enrolment at the first finger,
``print_on_site = "no"`` read as true and ``fingers = []`` dropped the duplicate check.  So
:func:`parse_policy` is the only road from keys and values to a `storage.model.Policy`:
the tool's TOML reader, the kit's reading of a flash request and of its profile at every
boot all take it.  Values must be of the type TOML gives the key (``"no"`` is not false,
``3.0`` is not 3), within the bounds below, and agree with each other; every problem is
named with its key, its value and what is allowed.

:func:`check_pages` is the one rule between the policy and the officers: their login
fingers' pages must lie inside the sensor library the policy sizes.

docs/provisioning.md ("The policy") shows :data:`RULES` as a table; a test keeps the two in
step.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from storage.eligibility import EKTP_AGE
from storage.errors import StorageError
from storage.model import Officer, Policy
from vocabulary.fingers import TEN_FINGERS, FingerPosition

MIB = 1024 * 1024


class Kind(enum.Enum):
    """The type of a key's value, as a TOML file writes it."""

    FLAG = "flag"
    WHOLE = "whole number"
    NUMBER = "number"
    TEXT = "text"
    FINGERS = "finger positions"
    DAY = "date"


@dataclass(frozen=True)
class Rule:
    """One policy key: its type, its bounds (inclusive) and why they are what they are.

    ``low``/``high`` bound a number, the length of a text, or a finger position;
    ``scale`` is how the bounds read to a person when the raw number does not (bytes).
    """

    kind: Kind
    why: str
    low: float = 0
    high: float = 0
    scale: str = ""

    @property
    def allowed(self) -> str:
        """What the technician may write, as the refusal and the docs' table say it."""
        low, high = _number(self.low), _number(self.high)
        if self.kind is Kind.FLAG:
            return "true or false, without quotes"
        if self.kind is Kind.TEXT:
            return f"text of {low} to {high} printable characters, in quotes"
        if self.kind is Kind.FINGERS:
            return (
                f"a list of distinct finger positions {low} (right thumb) to {high} (left "
                "little), e.g. [1, 2, 6, 7]"
            )
        if self.kind is Kind.DAY:
            return "a date like 2029-02-14, without quotes"
        if low == high:
            return f"{low} only"
        scale = f" ({self.scale})" if self.scale else ""
        return f"a {self.kind.value} from {low} to {high}{scale}"

    def fits(self, value: object) -> bool:
        """Whether ``value`` is of this key's type and within its bounds."""
        if self.kind is Kind.FLAG:
            return isinstance(value, bool)
        if self.kind is Kind.DAY:
            return type(value) is date  # a datetime is a date too, and not a day
        if self.kind is Kind.TEXT:
            return (
                isinstance(value, str)
                and value.isprintable()
                and len(value.strip()) >= self.low
                and len(value) <= self.high
            )
        if self.kind is Kind.FINGERS:
            return (
                isinstance(value, list | tuple)
                and all(self._within(finger) for finger in value)
                and len(set(value)) == len(value)
            )
        if isinstance(value, float) and self.kind is Kind.NUMBER:
            return self.low <= value <= self.high  # NaN is within no bounds
        return self._within(value)

    def _within(self, value: object) -> bool:
        """A whole number (not a bool, which Python counts as one) within the bounds."""
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    def converted(self, value: Any) -> Any:
        """``value``, which fits, as the Policy field holds it.

        A whole number stays one where a number is asked for (``15`` for 15 %): the profile
        keeps it as the authority signed it, and its digest with it.
        """
        if self.kind is Kind.FINGERS:
            return tuple(FingerPosition(finger) for finger in value)
        return value


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


#: Every policy key (the fields of `storage.model.Policy`) and its rule.
RULES: dict[str, Rule] = {
    "print_on_site": Rule(
        Kind.FLAG, "whether the kit prints the card on site, for first recordings only"
    ),
    "fingers": Rule(
        Kind.FINGERS,
        "the fingers recorded, in order; a finger listed twice would be captured twice; "
        "an empty list only with allow_no_fingers",
        low=TEN_FINGERS[0],
        high=TEN_FINGERS[-1],
    ),
    "allow_no_fingers": Rule(
        Kind.FLAG,
        "the authority's explicit word that no fingers are recorded: without them the kit "
        "makes no duplicate check",
    ),
    "finger_retries": Rule(
        Kind.WHOLE,
        "attempts per finger before the best is kept, MOSIP's default is 3; below 1 no "
        "finger can be taken, above 10 the person tires for no better print",
        low=1,
        high=10,
    ),
    "min_finger_quality": Rule(
        Kind.WHOLE,
        "the least NFIQ 2-style score, 0-100, a finger passes with, MOSIP's default is 40; "
        "0 would pass a glass with no finger on it",
        low=1,
        high=100,
    ),
    "face_retries": Rule(
        Kind.WHOLE,
        "photos taken before the best is kept; bounded as finger_retries is",
        low=1,
        high=10,
    ),
    "sensor_library_pages": Rule(
        Kind.WHOLE,
        "pages of the fingerprint sensor's library: an R503 has 200, an R307, the largest "
        "the kit drives, 1,000; the officers' pages and one person's fingers must fit in it",
        low=1,
        high=1000,
    ),
    "recording_age": Rule(
        Kind.WHOLE,
        "the e-KTP age is set by law, UU 24/2013 art. 63, and the kit applies it; "
        "first-time voters record early with voter_date",
        low=EKTP_AGE,
        high=EKTP_AGE,
    ),
    "idle_lock_seconds": Rule(
        Kind.WHOLE,
        "seconds without a button before the kit locks; shorter locks officers out "
        "mid-capture, longer leaves an unattended kit open",
        low=30,
        high=1800,
    ),
    "low_battery_percent": Rule(
        Kind.NUMBER,
        "no new enrolment starts at or below this charge; above 50 half the battery goes "
        "unused; it must be above critical_battery_percent",
        low=5,
        high=50,
    ),
    "critical_battery_percent": Rule(
        Kind.NUMBER,
        "the kit finishes the seal under way and shuts down; at 0 it would never shut "
        "down before the cell cuts out",
        low=1,
        high=30,
    ),
    "reserve_bytes": Rule(
        Kind.WHOLE,
        "free space kept beyond one record for the state database, the journal and the "
        "logs; below 8 MiB they can fill the card mid-seal, above 4 GiB little of it is "
        "left for records",
        low=8 * MIB,
        high=4096 * MIB,
        scale="8 MiB to 4 GiB",
    ),
    "card_collection_place": Rule(
        Kind.TEXT, "where the person collects the card, printed on every slip", low=1, high=120
    ),
    "voter_date": Rule(
        Kind.DAY,
        "the election day: first-time voters who turn 17 by then record as e-KTP early; "
        "leave the key out when there is none",
    ),
    "official_required": Rule(
        Kind.FLAG,
        "worklist residents are enrolled only while a village official is logged in",
    ),
}


class PolicyProblem(NamedTuple):
    """One key that breaks a rule: its value and, as a sentence, what is allowed."""

    key: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.key} = {shown(self.value)}: {self.allowed}"


class PolicyError(StorageError, ValueError):
    """A policy that breaks its rules; ``problems`` names every key that does."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"the policy breaks {len(problems)} rule(s): {listed}")


def shown(value: object) -> str:
    """``value`` as a TOML file writes it, so a refusal quotes the technician's own line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    if isinstance(value, int):
        return str(int(value))  # a FingerPosition as its number
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


def parse_policy(fields: Mapping[str, object]) -> Policy:
    """The Policy ``fields`` give (defaults for keys left out); PolicyError names every
    unknown key, every value its key does not allow, and every rule between keys broken
    (those between keys whose values are allowed: the others are named already).
    """
    bad = [key for key, value in fields.items() if key in RULES and not RULES[key].fits(value)]
    problems = [_unknown(key, value) for key, value in fields.items() if key not in RULES]
    problems += [
        PolicyProblem(key, fields[key], f"allowed {RULES[key].allowed} ({RULES[key].why})")
        for key in bad
    ]
    policy = Policy(
        **{
            key: RULES[key].converted(value)
            for key, value in fields.items()
            if key in RULES and key not in bad
        }
    )
    problems += _between(policy, set(bad))
    if problems:
        raise PolicyError(problems)
    return policy


def _unknown(key: str, value: object) -> PolicyProblem:
    close = difflib.get_close_matches(key, RULES, n=1)
    hint = f"did you mean {close[0]}?" if close else f"the keys are {', '.join(RULES)}"
    return PolicyProblem(key, value, f"unknown key: {hint}")


def _between(policy: Policy, bad: set[str]) -> list[PolicyProblem]:
    """The rules between keys none of which is in ``bad`` (values their own rule refused)."""
    problems = []
    fingers = {"fingers", "allow_no_fingers"}
    if not bad & fingers and not policy.fingers and not policy.allow_no_fingers:
        problems.append(
            PolicyProblem(
                "fingers",
                [],
                "allowed at least one finger position, unless the authority sets "
                "allow_no_fingers = true (without fingers the kit makes no duplicate check)",
            )
        )
    battery = {"low_battery_percent", "critical_battery_percent"}
    if not bad & battery and policy.critical_battery_percent >= policy.low_battery_percent:
        problems.append(
            PolicyProblem(
                "critical_battery_percent",
                policy.critical_battery_percent,
                f"allowed below low_battery_percent ({shown(policy.low_battery_percent)}): "
                "the kit stops new enrolments before it shuts down",
            )
        )
    return problems


def check_pages(policy: Policy, officers: Iterable[Officer]) -> None:
    """PolicyError unless the officers' login pages and one person's fingers fit the
    sensor library: a page outside it, or no room, would stop the duplicate check of
    every enrolment (`capture.sensor_library.SensorLibrary`)."""
    pages = {page for officer in officers for page in officer.finger_pages}
    least = max(max(pages, default=-1) + 1, len(pages) + len(policy.fingers))
    if policy.sensor_library_pages < least:
        top = f"up to page {max(pages)}" if pages else "on no page"
        raise PolicyError(
            [
                PolicyProblem(
                    "sensor_library_pages",
                    policy.sensor_library_pages,
                    f"allowed {least} or more with these officers: their login fingers are "
                    f"{top}, and one person's {len(policy.fingers)} finger(s) need room "
                    "beside them; give the officers lower finger pages or raise it",
                )
            ]
        )
