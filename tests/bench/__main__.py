"""``python -m tests.bench [--tiny] [--only NAME] [--out PATH]``: the table and results.json."""

from tests.bench.runner import main

main()
