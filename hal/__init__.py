"""Device contracts, device errors and the real drivers of the Jemput kit.

`hal` imports nothing else of Jemput: drivers meet their emulators only at the wire.
"""
