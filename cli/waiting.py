"""Waiting for a job or a batch to end, with a rich progress bar on stderr.

Polls are spaced out (0.2 s growing to 2 s): a short job is seen finished at
once, and a long wait costs the API one GET every 2 s (the web app polls every 5 s).
stdout stays for the JSON the command prints, so the bar can be piped away from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cli.client import ApiError

JOB_TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
BATCH_RUNNING = {"RUNNING"}

stderr = Console(stderr=True)


class GaveUp(Exception):
    """--timeout passed before the job or batch ended."""


def _intervals() -> Any:
    delay = 0.2
    while True:
        yield delay
        delay = min(2.0, delay * 1.5)


def poll(fetch: Callable[[], dict[str, Any]], *, done: Callable[[dict[str, Any]], bool],
         describe: Callable[[dict[str, Any]], tuple[str, float]], what: str,
         timeout: float | None) -> dict[str, Any]:
    """Call ``fetch`` until ``done`` says so; ``describe`` gives the bar's text and percent.

    A 503 while waiting (backend busy) is retried until the deadline; any other
    problem ends the wait with it.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        bar = progress.add_task(what, total=100)
        for delay in _intervals():
            try:
                current = fetch()
            except ApiError as exc:
                if exc.status != 503:
                    raise
            else:
                text, percent = describe(current)
                progress.update(bar, description=text, completed=percent)
                if done(current):
                    return current
            if deadline is not None and time.monotonic() + delay > deadline:
                raise GaveUp(f"gave up waiting for {what} after {timeout:g} s")
            time.sleep(delay)
    raise AssertionError("unreachable")


def describe_job(job: dict[str, Any]) -> tuple[str, float]:
    # Names are the user's text: "[/x]" in one must not be read as rich markup.
    name = escape(job.get("name") or job["id"])
    return f"{name} [bold]{job['status']}[/]", float(job.get("progress") or 0)


def describe_batch(batch: dict[str, Any]) -> tuple[str, float]:
    counts = batch.get("counts") or {}
    total = batch.get("total")
    finished = sum(counts.get(s, 0) for s in ("COMPLETED", "FAILED", "CANCELLED"))
    text = (f"{escape(batch.get('name') or batch['id'])} [bold]{batch['status']}[/] "
            f"{finished}/{'?' if total is None else total}")
    if counts.get("FAILED"):
        text += f" ([red]{counts['FAILED']} failed[/])"
    return text, float(batch.get("progress") or 0)
