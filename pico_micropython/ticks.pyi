# The type of time.ticks_ms() in the MicroPython stubs, for annotations (no module at run time).
from _mpy_shed.time_mp import _TicksMs as Ticks

__all__ = ["Ticks"]
