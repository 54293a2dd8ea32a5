"""What a technician watches while the tool works with a kit: one line, with a bar once the
total is known, and a live countdown while the kit's answer is awaited.

Why a countdown: a kit that is off, or a cable in the wrong socket, is a port that stays
silent, and the tool waits up to `kitlink.protocol.TIMEOUT` (30 s) for each answer before
it says so; a line that shows nothing for that long looks like a hang, and the technician
pulls the cable.  The wait is shown from where it happens, the port's `receive`
(`WatchedPort`), so every command on a kit (flash, collect, status, settime, selftest)
counts down alike without its code knowing.  Why no total until known: a bar of "0/None"
says nothing; the count appears once the kit has said how much there is.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from kitlink.framing import FramedPort
from vocabulary.language import Language, Words, count

#: A wait shorter than this is an ordinary answer; longer, and the countdown shows.
SHOW_AFTER = 1.0
WAITING = Words(
    "menunggu jawaban kit: {left} s lagi", "waiting for the kit's answer: {left} s left"
)
RECORDS = Words("rekaman", "records")
RESIDENTS = Words("penduduk", "residents")


class _Bar(ProgressColumn):
    """The bar, once there is a total to fill."""

    def __init__(self) -> None:
        super().__init__()
        self._bar = BarColumn()

    def render(self, task: Task) -> RenderableType:
        return Text("") if task.total is None else self._bar.render(task)


class _Count(ProgressColumn):
    """3/15 records, once the total is known."""

    def __init__(self, language: Language) -> None:
        super().__init__()
        self.language = language

    def render(self, task: Task) -> RenderableType:
        if task.total is None:
            return Text("")
        done, total = (count(int(n), self.language) for n in (task.completed, task.total))
        return Text(f"{done}/{total} {task.fields['unit']}")


class _Countdown(ProgressColumn):
    """The seconds left for the kit's answer, redrawn at every refresh."""

    def __init__(self, language: Language) -> None:
        super().__init__()
        self.language = language

    def render(self, task: Task) -> RenderableType:
        since, deadline = task.fields.get("since"), task.fields.get("deadline")
        now = time.monotonic()
        if since is None or deadline is None or now - since < SHOW_AFTER:
            return Text("")
        left = max(deadline - now, 0.0)
        return Text(WAITING(self.language).format(left=f"{left:.0f}"), style="yellow")


class KitProgress:
    """The one transient line of a command that works with a kit (a context manager)."""

    def __init__(self, console: Console, language: Language, description: str) -> None:
        self.language = language
        self._progress = Progress(
            TextColumn("{task.description}"),
            _Bar(),
            _Count(language),
            TextColumn("{task.fields[rate]}"),
            _Countdown(language),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(
            description, total=None, unit="", rate="", since=None, deadline=None
        )

    def __enter__(self) -> KitProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def count(
        self, done: int, total: int, unit: Words, *, description: str | None = None, rate: str = ""
    ) -> None:
        """``done`` of ``total`` (records, residents), with ``rate`` beside them."""
        self._progress.update(
            self._task,
            completed=done,
            total=total,
            description=description,
            unit=unit(self.language),
            rate=rate,
        )

    def waiting(self, seconds: float) -> None:
        """An answer is awaited for up to ``seconds`` from now."""
        now = time.monotonic()
        self._progress.update(self._task, since=now, deadline=now + seconds)

    def answered(self) -> None:
        self._progress.update(self._task, since=None, deadline=None)


class WatchedPort(FramedPort):
    """The kit's port, each wait for a frame shown on ``progress`` as a countdown."""

    def __init__(self, *, port: str, progress: KitProgress) -> None:
        super().__init__(port=port)
        self.progress = progress

    def receive(self, *, timeout: float) -> bytes:
        self.progress.waiting(timeout)
        try:
            return super().receive(timeout=timeout)
        finally:
            self.progress.answered()
