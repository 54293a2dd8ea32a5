"""Every prompt of the catalogue, filled with the longest real values, fits the display.

Each prompt is laid out as the controller draws it (:func:`capture.layout.lay_out`), in
both languages, once per value each placeholder can take while the others hold their
longest.  Nothing may be cut: no line wider than the display, no more lines than it has,
and what the officer checks still readable (every word of a value, or its written short
form; a name's every word or its initial, its last word whole; a date with its year).
A prompt's lines are stacked over menus and under notes, so each must also fit one
display line on its own.

A new prompt is covered as it is written; a new placeholder fails here until its longest
real values are added to :func:`real_values`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from capture.layout import ABBREVIATIONS, fit, lay_out
from capture.menu_steps import LoadCards
from capture.prompts import CATALOGUE, WIDTH, Language, prompt, word
from capture.widgets import DigitEntry
from hw_sim.world import World
from simulator.kit import TRAINING_KIT_ID, demo_world
from storage.model import CardKind, CorrectableField, FreeTextField
from storage.nik import NIK_LENGTH
from storage.officers import PIN_DIGITS
from storage.pin_guard import LONGEST_WAIT_SECONDS
from storage.worklist import load_worklist

LINES = 4
SAMPLE_WORKLIST = Path(__file__).parents[2] / "docs" / "samples" / "worklist-blitar.csv"
#: Record numbers a kit reaches over years of outreach days.
LONGEST_SEQ = "99999"
#: Attempts and tries as the policy allows them at most (finger_retries, face_retries).
MOST_TRIES = "10"
#: What :func:`readable` is asked of for the catalogue's own words, beside the values.
TEXT = "text"


@cache
def worlds() -> tuple[World, ...]:
    """The simulated world of three seeds, with the rules' cases."""
    return tuple(demo_world(seed, cases=True) for seed in (1, 2, 3))


@cache
def names() -> list[str]:
    """The longest names of the simulated world and the sample worklist, and the
    officers': whom the kit names on screen."""
    people = [p.name for world in worlds() for p in world.everyone]
    listed = [r.name for r in load_worklist(SAMPLE_WORKLIST)]
    longest = sorted({*people, *listed}, key=len, reverse=True)[:4]
    return longest + [o.name for o in worlds()[0].officers]


@cache
def villages() -> list[str]:
    """The longest village names of the simulated world and the sample worklist: whose
    card batches the kit lists."""
    places = {p.village for world in worlds() for p in world.everyone}
    places |= {r.village for r in load_worklist(SAMPLE_WORKLIST)}
    return sorted(places, key=len, reverse=True)[:4]


def words(prefix: str, language: Language, **values: object) -> list[str]:
    """Every one-line entry whose key starts with ``prefix``, as the kit shows it."""
    return [word(key, language, **values) for key in CATALOGUE if key.startswith(prefix)]


def real_values(key: str, language: Language) -> dict[str, list[str]]:
    """Each placeholder's real values, as the kit fills them in; some depend on the prompt."""
    faults = [prompt(k, language) for k in CATALOGUE if k.startswith("fault.")]
    fields = CorrectableField if key in ("correction_value", "corrected") else FreeTextField
    digits = {"pin": PIN_DIGITS, "load_cards": LoadCards.DIGITS}.get(key, NIK_LENGTH)
    return {
        "name": names(),
        "village": villages(),
        # a finger's tries left; a batch's cards left (CARDS_MAX); numbered blanks to load
        "left": {"handover_retry": [MOST_TRIES], "handover_cards": ["2000"]}.get(key, ["99999"]),
        "finger": words("finger.", language),
        "other": words("finger.", language),
        "born": [f"{date(1960, 12, 31):%d-%m-%Y}"],
        "nik": [worlds()[0].residents[0].nik],
        "kind": [kind.value for kind in CardKind],
        "entry": [DigitEntry(digits, masked=key == "pin").text()],
        "field": [word(f"field.{f.name}", language) for f in fields],
        "new": [value for f in CorrectableField for value in f.choices],
        "why": words("approval.", language, seq=LONGEST_SEQ) + words("quality.face.", language),
        "reason": words("nik_problem.", language, code="99", day="31", month="13")
        + [lines[0] for lines in faults],
        "device": words("device.", language),
        "problem": [lines[0] for lines in faults],
        "check": [lines[1] for lines in faults],
        "outcome": words("outcome.", language, voided=LONGEST_SEQ),
        "face": [word("yes", language), word("no", language)],
        "signature": [word("yes", language), word("no", language)],
        "card": [word("yes", language), word("no", language)],
        "value": [word("yes", language), word("no", language)],
        "serial": [f"{TRAINING_KIT_ID}-C00001"],
        "seq": [LONGEST_SEQ],
        "voided": [LONGEST_SEQ],
        "fingers": [f"{MOST_TRIES}/{MOST_TRIES}"],
        "index": [MOST_TRIES],
        "count": ["999", MOST_TRIES],
        "attempt": [MOST_TRIES],
        "tries": [MOST_TRIES],
        "battery": ["100%", "?"],
        "percent": ["100"],
        "stock": ["9999"],
        "seconds": [str(LONGEST_WAIT_SECONDS)],
        "code": ["99"],
        "day": ["31"],
        "month": ["13"],
    }


def placeholders(text: str) -> list[str]:
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name})


def fillings(key: str, language: Language) -> Iterator[dict[str, str]]:
    """The prompt's placeholders filled: each value of each in turn, the rest longest."""
    real = real_values(key, language)
    named = placeholders(CATALOGUE[key][0])
    missing = [name for name in named if name not in real]
    assert not missing, f"{key}: add the longest real values of {missing} to real_values()"
    longest = {name: max(real[name], key=len) for name in named}
    yield longest
    for name in longest:
        for value in real[name]:
            yield {**longest, name: value}


def readable(name: str, value: str, language: Language) -> re.Pattern[str]:
    """What the officer must still read of ``value``: a name's words or their initials,
    its last word whole; any other value's words (the catalogue's own words too) or their
    short forms from the list."""
    if name in ("name", "new") and value.isupper():  # whole words: LESTAR is not LESTARI
        *first, last = value.split()
        parts = [rf"(?:{re.escape(w)}|{re.escape(w[0])}\.)" for w in first]
        return re.compile(r"(?<!\w)" + r"\s*".join([*parts, re.escape(last)]) + r"(?!\w)")
    pattern = re.escape(value)
    for long, short in ABBREVIATIONS[language]:
        either = f"(?:{re.escape(long)}|{re.escape(short)})".replace("\\", r"\\")  # for re.sub
        pattern = re.sub(re.escape(re.escape(long)), either, pattern, flags=re.I)
    return re.compile(pattern, re.IGNORECASE)


def assert_fits(
    shown: list[str], rows: int, template: str, values: dict[str, str], language: Language
) -> None:
    """``shown`` fits ``rows`` lines and keeps what the officer reads of ``template``'s
    words and of the ``values`` filled into it."""
    assert len(shown) <= rows, f"{len(shown)} lines: {shown}"
    assert all(len(line) <= WIDTH for line in shown), shown
    text = " ".join(shown)
    written = [literal.strip() for line in template.split("\n") for literal in literals(line)]
    for part in filter(None, written):
        assert readable(TEXT, part, language).search(text), f"{part!r} lost: {shown}"
    for name in placeholders(template):
        value = values[name]
        assert readable(name, value, language).search(text), f"{name}={value!r} lost: {shown}"


def literals(line: str) -> list[str]:
    """The catalogue's own words of a template line, between its placeholders."""
    return [literal for literal, *_ in string.Formatter().parse(line)]


@pytest.mark.parametrize("language", list(Language), ids=lambda lang: lang.value)
@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_prompt_fits_with_the_longest_real_values(key: str, language: Language) -> None:
    template = CATALOGUE[key][list(Language).index(language)]
    for values in fillings(key, language):
        shown = lay_out(
            prompt(key, language, **values), columns=WIDTH, rows=LINES, language=language
        )
        assert_fits(shown, LINES, template, values, language)
        for line in template.split("\n"):  # over a menu, under a note: one display line
            alone = lay_out([line.format(**values)], columns=WIDTH, rows=1, language=language)
            assert_fits(alone, 1, line, values, language)


def test_a_long_name_wraps_where_there_is_room_and_is_shortened_where_there_is_none() -> None:
    name = "SRI SANTOSO HARTONO NINGTYAS DWI LESTARI"
    welcome = prompt("welcome", name=name)
    assert lay_out(welcome, columns=WIDTH, rows=LINES, language=Language.ID) == [
        "Selamat datang",
        "SRI SANTOSO HARTONO",
        "NINGTYAS DWI LESTARI",
    ]
    ready = ["SIAP 90% kartu:10", f">{name}", " RUDI KANAN TENGAH WIJAYA PRATAMA", " * Menu"]
    assert lay_out(ready, columns=WIDTH, rows=LINES, language=Language.ID) == [
        "SIAP 90% kartu:10",
        ">SRI S.H.N.D. LESTARI",
        " RUDI K.T.W. PRATAMA",  # a name in capitals is never abbreviated from the list
        " * Menu",
    ]


def test_a_screen_no_rule_fits_is_logged_and_shown_as_far_as_it_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines = ["satu", "dua", "tiga", "empat", "lima"]
    assert fit(lines, columns=WIDTH, rows=LINES, language=Language.ID) == lines[:LINES]
    assert "does not fit" in caplog.text
