"""A fake ``time`` on the simulator's virtual clock (see _bridge); ticks wrap as on a Pico."""

import _bridge

_PERIOD = _bridge.TICKS_PERIOD
_HALF = _PERIOD // 2


def ticks_ms() -> int:
    return _bridge.ticks()


def ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) % _PERIOD


def ticks_diff(later: int, earlier: int) -> int:
    return ((later - earlier + _HALF) % _PERIOD) - _HALF


def sleep_ms(ms: int) -> None:
    _bridge.advance(ms)


def sleep(seconds: float) -> None:
    _bridge.advance(int(seconds * 1000))
