"""Running one function in several real processes at once, and collecting what each did.

Each process opens its own registry handle (its own connections): the tests race real
processes against one database, as server workers and command-line runs do.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Outcome:
    """What one process returned, or the error that ended it (type and message)."""

    worker: int
    value: Any = None
    error: str | None = None
    trace: str | None = None


def _child(results: Any, worker: int, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        results.put(Outcome(worker, value=target(worker, *args)))
    except BaseException as exc:  # reported to the test, which decides what was allowed
        results.put(
            Outcome(
                worker,
                error=f"{type(exc).__name__}: {exc}",
                trace=traceback.format_exc(),
            )
        )


def run_processes(
    target: Callable[..., Any], arguments: Sequence[tuple[Any, ...]], timeout: float = 180.0
) -> list[Outcome]:
    """Run ``target(worker_number, *args)`` for each tuple of ``arguments``, all at once."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_child, args=(results, number, target, args), daemon=True)
        for number, args in enumerate(arguments)
    ]
    for process in processes:
        process.start()
    outcomes: list[Outcome] = []
    try:
        for _ in processes:
            outcomes.append(results.get(timeout=timeout))
    except queue.Empty:
        raise AssertionError(
            f"only {len(outcomes)} of {len(processes)} processes finished in {timeout} s"
        ) from None
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return sorted(outcomes, key=lambda o: o.worker)


def barrier(parties: int) -> Any:
    """A barrier the forked processes share."""
    return multiprocessing.get_context("fork").Barrier(parties)
