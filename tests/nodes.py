"""Several nodes at one moment: each its own App (own engine and pool) on the test's database."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from db.app import App


def as_nodes(config_file: Path, n: int, fn: Callable[[App, int], None]) -> None:
    """Run fn(app, i) in n threads released together, each with its own App; all closed after."""
    nodes = [App.from_config(str(config_file)) for _ in range(n)]
    barrier = threading.Barrier(n)

    def node(a: App, i: int) -> None:
        barrier.wait()
        fn(a, i)

    threads = [threading.Thread(target=node, args=(a, i)) for i, a in enumerate(nodes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for a in nodes:
        a.close()
