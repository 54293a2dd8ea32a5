"""The firmware's version, which the Pi reads with the INFO command.

MAJOR changes when a command or a field changes meaning (the Pi's driver checks it);
MINOR when something is added that an older driver can ignore; PATCH for fixes.
"""

MAJOR = 1
MINOR = 1
PATCH = 0
#: The link protocol spoken (docs/devices/coprocessor.md); a driver refuses another.
PROTOCOL = 1
