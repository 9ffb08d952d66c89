"""Run a real ``listwatch`` command that stops at a chosen point, so a test can SIGKILL it there.

    python -m tests.scale.workload POINT listwatch-arguments...

The command runs unchanged except that, at POINT, it prints ``PAUSED POINT`` on standard
error and sleeps (for a test only; the product has no such hook):

- ``import``: an official import, after its entities are written and before its events
  (inside its transaction);
- ``news:N``: ``news ingest``, after storing N articles (inside its transaction);
- ``load:N``: ``spark load-news``, after storing N articles (batches before are committed).
"""

from __future__ import annotations

import sys
import time
from typing import Any

PAUSE = 600.0


def _pause(point: str) -> None:
    sys.stderr.write(f"PAUSED {point}\n")
    sys.stderr.flush()
    time.sleep(PAUSE)


def _after_calls(module: Any, name: str, calls: int, point: str) -> None:
    original = getattr(module, name)
    count = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        result = original(*args, **kwargs)
        count += 1
        if count == calls:
            _pause(point)
        return result

    setattr(module, name, counted)


def install(point: str) -> None:
    """Patch the library so that it pauses at ``point``."""
    kind, _, number = point.partition(":")
    if kind == "import":
        from listwatch.sources import engine

        original = engine._Importer._write_events

        def paused(self: Any) -> None:
            _pause(point)
            original(self)

        engine._Importer._write_events = paused  # type: ignore[method-assign]
    elif kind in ("news", "load"):
        import listwatch.news.ingest as ingest

        _after_calls(ingest, "store_result", int(number), point)
    else:
        raise SystemExit(f"unknown pause point {point!r}")


def main() -> None:
    point, arguments = sys.argv[1], sys.argv[2:]
    install(point)
    from listwatch.cli.main import app

    app(arguments, prog_name="listwatch")


if __name__ == "__main__":
    main()
