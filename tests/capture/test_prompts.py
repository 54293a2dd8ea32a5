"""Every text the kit shows fits its display, in both languages, with the same blanks."""

from __future__ import annotations

import inspect
import string

import pytest

from capture.faults import FAULTS, UNKNOWN
from capture.prompts import CATALOGUE, WIDTH, Language, prompt, word
from hal import exc
from storage.nik import NikProblem

LINES = 4
KEYS = sorted(CATALOGUE)


def placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def without_placeholders(line: str) -> str:
    return "".join(literal for literal, *_ in string.Formatter().parse(line))


def test_the_languages_are_the_two_of_the_catalogue() -> None:
    assert [language.value for language in Language] == ["id", "en"]
    assert all(len(entry) == len(Language) for entry in CATALOGUE.values())


@pytest.mark.parametrize("key", KEYS)
def test_both_languages_are_written(key: str) -> None:
    indonesian, english = CATALOGUE[key]
    assert indonesian.strip() and english.strip()


@pytest.mark.parametrize("key", KEYS)
def test_both_languages_have_the_same_placeholders(key: str) -> None:
    indonesian, english = CATALOGUE[key]
    assert placeholders(indonesian) == placeholders(english)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("language", list(Language))
def test_every_line_fits_the_display(key: str, language: Language) -> None:
    text = CATALOGUE[key][list(Language).index(language)]
    lines = text.split("\n")
    assert len(lines) <= LINES, f"{key} ({language.value}) has {len(lines)} lines"
    for line in lines:
        bare = without_placeholders(line)
        assert len(bare) <= WIDTH, f"{key} ({language.value}): {line!r} is {len(bare)} wide"


def test_prompt_fills_placeholders_and_picks_the_language() -> None:
    assert prompt("cards_loaded", count=25, stock=35) == ["25 kartu dimuat", "Stok: 35"]
    assert prompt("cards_loaded", Language.EN, count=25, stock=35) == [
        "25 cards loaded",
        "Stock: 35",
    ]
    assert word("finger.2", Language.EN) == "Right index"


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError, match="stock"):
        prompt("cards_loaded", count=1)


def test_every_device_error_is_worded_in_the_catalogue() -> None:
    """What happened and what to check, for every error a driver can raise: the officer
    never reads a driver's English."""
    errors = {
        cls for _, cls in inspect.getmembers(exc, inspect.isclass) if cls.__module__ == exc.__name__
    }
    assert errors <= FAULTS.keys(), f"word {errors - FAULTS.keys()} in capture.faults"
    for key in {*FAULTS.values(), UNKNOWN}:
        assert [len(prompt(key, language)) for language in Language] == [2, 2], key


def test_every_reason_a_number_is_refused_is_worded_in_the_catalogue() -> None:
    assert all(f"nik_problem.{problem.value}" in CATALOGUE for problem in NikProblem)


@pytest.mark.parametrize("key", KEYS)
def test_a_name_stands_on_a_line_of_its_own(key: str) -> None:
    """A name is shortened to initials only where a line cannot be spared for it, and never
    squeezed beside the catalogue's words (capture.layout)."""
    for text in CATALOGUE[key]:
        assert all(line == "{name}" for line in text.split("\n") if "{name}" in line), key
