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
companion answering.  Nothing is inferred: every one is a button the officer pressed.
"""

from __future__ import annotations

import enum

from capture.base import Step
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


class Guardian(Step):
    """A child's parent or guardian heard the notice: the officer spells their name with
    the menu (a letter per OK; the list wraps, so "done" is one UP from A)."""

    def enter(self) -> None:
        super().enter()
        self.name = ""
        spaced = {" ": self.ctx.word("guardian.space")}
        self.menu: Menu[str | Spelling] = Menu(
            [
                *((spaced.get(letter, letter), letter) for letter in LETTERS),
                (self.ctx.word("guardian.delete"), Spelling.DELETE),
                (self.ctx.word("guardian.done"), Spelling.DONE),
            ],
            rows=LETTER_ROWS,
        )

    def widget(self) -> Menu[str | Spelling]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK and press is Press.SHORT:
            self.name = self.name[:-1]
        elif button is Button.OK:
            chosen = self.menu.focus
            if chosen is Spelling.DELETE:
                self.name = self.name[:-1]
            elif chosen is Spelling.DONE:
                self._named()
            elif isinstance(chosen, str) and len(self.name) < GUARDIAN_MAX:
                self.name += chosen

    def _named(self) -> None:
        if not self.name.strip():
            self.say("guardian_empty")
            return
        self.draft.give_notice(NOTICE_VERSION, guardian=self.name)
        self.ctx.session.journal()
        # the guardian's name is the record body's, never the audit log's
        self.ctx.audit(
            AuditKind.NOTICE, nik=self.draft.resident.nik, notice=NOTICE_VERSION, guardian=True
        )
        self.ctx.go(CaptureEvent.GUARDIAN_NAMED)

    def lines(self) -> list[str]:
        title = self.ctx.text("guardian", name=self.name[-NAME_SHOWN:])
        return [*(self.note[:1] or title[:1]), *title[1:], *self.menu.lines()]


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
    OK on "continue" keeps them and the capture begins."""

    def enter(self) -> None:
        super().enter()
        self.disability: Disability | None = self.draft.disability
        self.assists: set[Assist] = set(self.draft.assists)
        self.kinds: Menu[Disability | None] | None = None
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

    def widget(self) -> Menu[Need] | Menu[Disability | None]:
        return self.kinds or self.menu

    def press(self, button: Button, press: Press) -> None:
        if self.kinds is not None:
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
            self.assists ^= {_ASSISTS[self.menu.focus]}
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
        self.draft.declare_needs(self.disability, assists)
        self.ctx.session.journal()
        if self.disability is not None or assists:
            # which disability is the record body's (encrypted), not the audit log's
            self.ctx.audit(
                AuditKind.NEEDS,
                nik=self.draft.resident.nik,
                disability=self.disability is not None,
                assists=[assist.value for assist in assists],
            )
        self.ctx.go(CaptureEvent.NEEDS_DECLARED)

    def lines(self) -> list[str]:
        if self.kinds is not None:
            return self.ctx.text("disability_title") + self.kinds.lines()
        return self.ctx.text("needs") + self.menu.lines()
