"""How a screen's lines are laid onto the display: wrapped at spaces, or shortened by
written rules, never cut.

A step says what it shows as lines: a prompt from the catalogue with its values filled
in, a menu, a note.  A value can make a line longer than the display is wide (a resident's
name, a finger's name beside a word), so :func:`fit` lays the lines out, in this order,
stopping at the first that fits the display's rows:

1. every line too wide wraps at spaces onto the next display line;
2. the words of a line too wide are abbreviated from :data:`ABBREVIATIONS`, in the list's
   order, until it fits (``Pengecualian Jari tengah kanan:`` becomes
   ``Pengec. J. tgh. ka.:``), and what is still too wide wraps;
3. a line still too wide has its words in capitals shortened to initials, the middle ones
   from the right, then the first, until it fits (``SRI SANTOSO HARTONO NINGTYAS DWI
   LESTARI`` becomes ``SRI S.H.N.D. LESTARI``), and what is still too wide wraps.

Words in capitals are what the worklist wrote (a name, a place, an occupation): the list
never touches them, since an officer compares them letter by letter with the KK, and the
initials keep every word's first letter and the last word whole.  Initials are written
with a dot and no space between them, as Indonesian names are (``R.A. KARTINI``).  The
list and the rules are written down in docs/capture-states.md, and a test lays out every
prompt of the catalogue with the longest real values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from functools import partial

from capture.prompts import Language

log = logging.getLogger(__name__)

#: Short forms an officer reads at a glance, per language, in the order they are applied
#: (the first does the least harm to reading).  Applied to whole words written in lower case
#: or capitalised, never to words in capitals; the short form takes the word's case.
ABBREVIATIONS: dict[Language, tuple[tuple[str, str], ...]] = {
    Language.ID: (
        ("tanda tangan", "ttd"),
        ("kanan", "ka."),
        ("kiri", "ki."),
        ("tidak", "tdk"),
        ("lahir", "lhr."),
        ("perkawinan", "kawin"),
        ("rekaman", "rek."),
        ("pengecualian", "pengec."),
        ("jari", "j."),
        ("tengah", "tgh."),
        ("telunjuk", "tlj."),
        ("kelingking", "klg."),
        ("jempol", "jmp."),
    ),
    Language.EN: (
        ("right", "r."),
        ("left", "l."),
        ("exception", "exc."),
    ),
}

#: A word's letters, for telling a word in capitals from one the catalogue wrote.
_LETTERS = re.compile(r"[^\W\d_]+")


def fit(lines: Sequence[str], *, columns: int, rows: int, language: Language) -> list[str]:
    """``lines`` as the display shows them: at most ``rows`` lines of ``columns``.

    What no rule makes fit (a prompt bug, which the catalogue's test exists to catch) is
    logged and shown as far as it goes, so the kit never stops on a screen.
    """
    shown = lay_out(lines, columns=columns, rows=rows, language=language)
    if len(shown) > rows:
        log.error("a screen does not fit the display's %d lines: %s", rows, shown)
    return shown[:rows]


def lay_out(lines: Sequence[str], *, columns: int, rows: int, language: Language) -> list[str]:
    """``lines`` laid out by the module's rules, each at most ``columns`` wide: at most
    ``rows`` of them unless no rule makes them fit (then the last try, in full)."""
    laid: list[str] = []
    current = list(lines)
    for shorten in (_as_written, _abbreviated, _initials):
        current = [
            line if len(line) <= columns else shorten(line, columns, language) for line in current
        ]
        laid = [row for line in current for row in wrap(line, columns)]
        if len(laid) <= rows:
            break
    return laid


def wrap(line: str, columns: int) -> Iterator[str]:
    """``line`` broken at spaces into lines of at most ``columns``; a word wider than the
    display is broken where it reaches the edge (no rule leaves one in a prompt)."""
    first, *words = line.split(" ")
    rows: list[str] = []
    current = first
    for word in words:
        if len(current) + 1 + len(word) <= columns:
            current = f"{current} {word}"
            continue
        rows.append(current)
        current = word
    for row in [*rows, current]:
        yield from (row[start : start + columns] for start in range(0, len(row) or 1, columns))


def _as_written(line: str, columns: int, language: Language) -> str:
    """The first try: the line as the catalogue and its values make it."""
    return line


def _abbreviated(line: str, columns: int, language: Language) -> str:
    """``line`` with the list's words abbreviated, in the list's order, until it fits."""
    for pattern, abbreviate in _RULES[language]:
        if len(line) <= columns:
            break
        line = pattern.sub(abbreviate, line)
    return line


def _in_case_of(short: str, match: re.Match[str]) -> str:
    """``short`` written as the word ``match`` found is: capitalised or lower case; a word
    in capitals is the worklist's and keeps its letters."""
    word = match.group()
    if _in_capitals(word):
        return word
    return short[0].upper() + short[1:] if word[0].isupper() else short


def _in_capitals(word: str) -> bool:
    letters = "".join(_LETTERS.findall(word))
    return len(letters) > 1 and letters.isupper()


def _initials(line: str, columns: int, language: Language) -> str:
    """The words in capitals of ``line`` shortened to initials (the middle ones from the
    right, then the first; the last kept whole) until it fits ``columns``.  A menu line's
    leading space is kept, as the line's own."""
    indent = line[: len(line) - len(line.lstrip(" "))]
    columns -= len(indent)
    words = line.lstrip(" ").split(" ")
    initials: set[int] = set()
    for index in [*range(len(words) - 2, 0, -1), 0]:
        if len(_joined(words, initials)) <= columns:
            break
        if len(words) > 1 and _in_capitals(words[index]):
            words[index] = _initial(words[index])
            initials.add(index)
    return indent + _joined(words, initials)


def _initial(word: str) -> str:
    """``SANTOSO`` as ``S.``; what stands before the first letter stays (``>SRI``: ``>S.``)."""
    first = next(i for i, char in enumerate(word) if char.isalpha())
    return f"{word[: first + 1]}."


def _joined(words: list[str], initials: set[int]) -> str:
    """The words with spaces, but none between two initials (``S.H.N.D.``)."""
    joined = words[0]
    for index in range(1, len(words)):
        between = "" if {index - 1, index} <= initials else " "
        joined += between + words[index]
    return joined


#: Each abbreviation as a pattern that finds the whole word in any case, and what writes
#: its short form in the word's case.
_RULES = {
    language: [
        (
            re.compile(rf"(?<![\w.]){re.escape(word)}(?!\w)", re.IGNORECASE),
            partial(_in_case_of, short),
        )
        for word, short in rules
    ]
    for language, rules in ABBREVIATIONS.items()
}
