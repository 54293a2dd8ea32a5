"""Deterministic test vectors of the record format; rebuild with ``python -m tests.vectors.make``.

The layout is described in docs/record-format.md ("Test vectors").
"""
