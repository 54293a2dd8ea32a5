"""Which Pico pins the co-processor uses (docs/hardware.md, the Pico section).

The power switch's enable has an external pull-up: while the Pico resets or is being
flashed its pins float, and the Pi must stay powered.  The Pico cuts power only by
driving the pin low.
"""

from micropython import const

#: UART0 to the Pi's UART3 (Pi GPIO4 TX -> Pico GP1 RX, Pi GPIO5 RX <- Pico GP0 TX).
UART_ID = const(0)
UART_TX = const(0)
UART_RX = const(1)
UART_BAUD = const(115_200)
#: The power button, to ground (internal pull-up).
BUTTON = const(14)
#: Enable of the Pi's 5 V load switch: high (or floating) = on, low = off.
POWER_SWITCH = const(15)
#: The Pico's own LED: shows the battery level when the button is pressed.
LED = const(25)
#: ADC0: the cell through a 100k / 100k divider.
BATTERY_ADC = const(26)
#: Cell millivolts = ADC millivolts x this (the divider halves the cell voltage).
DIVIDER = const(2)
#: The ADC's reference (3.3 V) in millivolts, and its full scale as read_u16() reports it.
ADC_REF_MV = const(3_300)
ADC_FULL_SCALE = const(65_535)
