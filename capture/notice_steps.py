"""Before anything is captured: the notice of processing, who heard it, and what the
person needs.

Why here, before the face: UU 27/2022 (Pelindungan Data Pribadi) asks that a person be
told what is recorded about them, why and who will see it, before it is; a child's data
with a parent's or guardian's knowledge.  The kit shows the notice page by page (the
words are `capture.prompts`' ``notice.*``, numbered by `storage.record.NOTICE_VERSION`)
and the officer reads it aloud; the record's header then says which notice was given, and
for a child the guardian's name goes into the encrypted body.  Then the person, or their
companion, may declare a disability from the civil registry's list
(`vocabulary.rounds.Disability`), and the officer chooses how the flow is adapted: a
seated photo (more tries, a wider frame: `capture.face_quality.face_allowance`), a
companion answering (named, as a guardian is; the screens then speak to them:
`capture.base.Step.to_person`).  Nothing is inferred: every one is a button the officer
pressed.
"""

from __future__ import annotations

import enum

from capture.base import Step, StepContext
from capture.machine import CaptureEvent
from capture.prompts import WIDTH
from capture.widgets import Menu
from hal.types import Button, Press
from storage.audit import AuditKind
from storage.record import NOTICE_VERSION
from vocabulary.rounds import Assist, Disability

#: Pages of the notice (``notice.1`` ... in the catalogue).
NOTICE_PAGES = 4
#: What a guardian's name is spelled with, letter by letter, after A-Z.
MARKS = (" ", "'", ".", "-")
LETTERS = (*(chr(code) for code in range(ord("A"), ord("Z") + 1)), *MARKS)
#: The longest guardian name the kit takes (a name on a KK is shorter).
GUARDIAN_MAX = 60
#: How much of the name its line shows: its end, where the officer spells.
NAME_SHOWN = WIDTH
#: Letters shown under the two title lines (the name has a line of its own).
LETTER_ROWS = 2


class Notice(Step):
    """The notice, page by page: DOWN or OK turns the page, UP turns back; OK on the last
    page says it was read (for a child the guardian is named next)."""

    def enter(self) -> None:
        super().enter()
        self.page = 1

    def press(self, button: Button, press: Press) -> None:
        if button is Button.UP or (button is Button.BACK and press is Press.SHORT):
            self.page = max(1, self.page - 1)
        elif button in (Button.DOWN, Button.OK) and self.page < NOTICE_PAGES:
            self.page += 1
        elif button is Button.OK:
            if not self.draft.child:  # a child's is given once the guardian is named
                self.draft.give_notice(NOTICE_VERSION)
                self.ctx.session.journal()
                self.ctx.audit(AuditKind.NOTICE, nik=self.draft.resident.nik, notice=NOTICE_VERSION)
            self.ctx.go(CaptureEvent.NOTICE_GIVEN)

    def lines(self) -> list[str]:
        return self.ctx.text(f"notice.{self.page}")


class Spelling(enum.Enum):
    """The menu's last lines: take back a letter, or the name is complete."""

    DELETE = enum.auto()
    DONE = enum.auto()


class Speller:
    """A name spelled with the letter menu (a letter per OK; the list wraps, so "done" is
    one UP from A): a child's guardian's, a companion's.  One speller, so both names are
    spelled, shown and taken back alike."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self.name = ""
        spaced = {" ": ctx.word("guardian.space")}
        self.menu: Menu[str | Spelling] = Menu(
            [
                *((spaced.get(letter, letter), letter) for letter in LETTERS),
                (ctx.word("guardian.delete"), Spelling.DELETE),
                (ctx.word("guardian.done"), Spelling.DONE),
            ],
            rows=LETTER_ROWS,
        )

    def press(self, button: Button, press: Press) -> bool:
        """Take a button; True once "done" is chosen (the name may still be empty)."""
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK and press is Press.SHORT:
            self.name = self.name[:-1]
        elif button is Button.OK:
            chosen = self.menu.focus
            if chosen is Spelling.DELETE:
                self.name = self.name[:-1]
            elif chosen is Spelling.DONE:
                return True
            elif isinstance(chosen, str) and len(self.name) < GUARDIAN_MAX:
                self.name += chosen
        return False

    def text(self, key: str, note: list[str]) -> list[str]:
        """Prompt ``key``'s title (or the note's first line in its place), the name spelled
        so far (its end, where the officer spells), the letters."""
        title = self.ctx.text(key, name=self.name[-NAME_SHOWN:])
        return [*(note[:1] or title[:1]), *title[1:], *self.menu.lines()]


class Guardian(Step):
    """A child's parent or guardian heard the notice: the officer spells their name."""

    def enter(self) -> None:
        super().enter()
        self.speller = Speller(self.ctx)

    def widget(self) -> Menu[str | Spelling]:
        return self.speller.menu

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if self.speller.press(button, press):
            self._named()

    def _named(self) -> None:
        if not self.speller.name.strip():
            self.say("guardian_empty")
            return
        self.draft.give_notice(NOTICE_VERSION, guardian=self.speller.name)
        self.ctx.session.journal()
        # the guardian's name is the record body's, never the audit log's
        self.ctx.audit(
            AuditKind.NOTICE, nik=self.draft.resident.nik, notice=NOTICE_VERSION, guardian=True
        )
        self.ctx.go(CaptureEvent.GUARDIAN_NAMED)

    def lines(self) -> list[str]:
        return self.speller.text("guardian", self.note)


class Need(enum.Enum):
    """A line of the needs menu."""

    GO = "go"
    DISABILITY = "disability"
    SEATED = "seated"
    COMPANION = "companion"


#: The adaptation each toggle line stands for.
_ASSISTS = {Need.SEATED: Assist.SEATED, Need.COMPANION: Assist.COMPANION}


class Needs(Step):
    """A disability, if one is declared (from the registry's list), and the adaptations;
    OK on "continue" keeps them and the capture begins.

    A companion who answers for an adult is named as they are chosen, spelled as a
    guardian is (the name goes into the encrypted body, as a guardian's does); "done" with
    nothing spelled takes the companion back.  A child's companion is the guardian who
    heard the notice, already named."""

    def enter(self) -> None:
        super().enter()
        self.disability: Disability | None = self.draft.disability
        self.assists: set[Assist] = set(self.draft.assists)
        self.companion: str | None = self.draft.guardian if not self.draft.child else None
        if self.companion is None and not self.draft.child:
            self.assists.discard(Assist.COMPANION)  # an adult's companion is named
        self.kinds: Menu[Disability | None] | None = None
        self.speller: Speller | None = None
        self.menu = self._menu(0)

    def _menu(self, cursor: int) -> Menu[Need]:
        def said(on: bool) -> str:
            return self.ctx.word("yes" if on else "no")

        values = {
            Need.GO: {},
            Need.DISABILITY: {"value": said(self.disability is not None)},
            **{need: {"value": said(assist in self.assists)} for need, assist in _ASSISTS.items()},
        }
        items = [(self.ctx.word(f"needs.{need.value}", **values[need]), need) for need in Need]
        return Menu(items, cursor=cursor)

    def widget(self) -> Menu[Need] | Menu[Disability | None] | Menu[str | Spelling]:
        if self.speller is not None:
            return self.speller.menu
        return self.kinds or self.menu

    def press(self, button: Button, press: Press) -> None:
        if self.speller is not None:
            self._spell(button, press)
        elif self.kinds is not None:
            self._choose_kind(button, press)
        elif button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.OK and self.menu.focus is Need.GO:
            self._declared()
        elif button is Button.OK and self.menu.focus is Need.DISABILITY:
            kinds: list[Disability | None] = [None, *Disability]
            self.kinds = Menu(
                [
                    (self.ctx.word(f"disability.{kind.name if kind else 'NONE'}"), kind)
                    for kind in kinds
                ],
                cursor=kinds.index(self.disability),
            )
        elif button is Button.OK and self.menu.focus in _ASSISTS:
            assist = _ASSISTS[self.menu.focus]
            if assist is Assist.COMPANION and assist not in self.assists and not self.draft.child:
                self.speller = Speller(self.ctx)  # on once named
                return
            self.assists ^= {assist}
            if assist is Assist.COMPANION:
                self.companion = None
            self.menu = self._menu(self.menu.cursor)

    def _spell(self, button: Button, press: Press) -> None:
        assert self.speller is not None
        if not self.speller.press(button, press):
            return
        name = self.speller.name.strip()
        if name:
            self.companion = name
            self.assists.add(Assist.COMPANION)
        self.speller = None
        self.menu = self._menu(self.menu.cursor)

    def _choose_kind(self, button: Button, press: Press) -> None:
        assert self.kinds is not None
        if button in (Button.UP, Button.DOWN):
            self.kinds.move(button)
            return
        if button is Button.OK:
            self.disability = self.kinds.focus
        elif not (button is Button.BACK and press is Press.SHORT):
            return
        self.kinds = None
        self.menu = self._menu(self.menu.cursor)

    def _declared(self) -> None:
        assists = [assist for assist in Assist if assist in self.assists]
        self.draft.declare_needs(self.disability, assists, companion=self.companion)
        self.ctx.session.journal()
        if self.disability is not None or assists:
            # which disability, and the companion's name, are the record body's (encrypted),
            # not the audit log's
            self.ctx.audit(
                AuditKind.NEEDS,
                nik=self.draft.resident.nik,
                disability=self.disability is not None,
                assists=[assist.value for assist in assists],
            )
        self.ctx.go(CaptureEvent.NEEDS_DECLARED)

    def lines(self) -> list[str]:
        if self.speller is not None:
            return self.speller.text("companion", [])
        if self.kinds is not None:
            return self.ctx.text("disability_title") + self.kinds.lines()
        return self.ctx.text("needs") + self.menu.lines()
