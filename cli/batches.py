"""``batchlab batch``: many jobs from one file (batch contract, issue 14).

``submit`` uploads the file through POST /api/uploads' presigned flow (cli/uploads.py),
then POST /api/batches names the uploaded object; the server reads it, one job per
line (JSON Lines) or per row (CSV with a header).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.client import Api
from cli.shared import EXIT_NOT_COMPLETED, Owner, Timeout, handled, print_json
from cli.uploads import upload_file
from cli.waiting import BATCH_RUNNING, describe_batch, poll, stderr

batch_app = typer.Typer(help="Batches: one job per line of a JSON Lines or CSV file.",
                        no_args_is_help=True)

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def batch_request(*, key: str, job_type: str, owner: str | None, name: str,
                  file_format: str | None, all_or_nothing: bool,
                  webhook_url: str | None) -> dict[str, Any]:
    """The POST /api/batches body for an uploaded file: only what was given."""
    body: dict[str, Any] = {"name": name, "type": job_type, "object": key}
    if owner:
        body["ownerId"] = owner
    if file_format:
        body["format"] = file_format
    if all_or_nothing:
        body["allOrNothing"] = True
    if webhook_url:
        body["webhookUrl"] = webhook_url
    return body


def format_of(path: Path, given: str | None) -> str | None:
    return given or FORMATS.get(path.suffix.lower())


def wait_for_batch(api: Api, batch_id: str, *, timeout: float | None) -> dict[str, Any]:
    return poll(lambda: api.get(f"/api/batches/{batch_id}"),
                done=lambda b: b["status"] not in BATCH_RUNNING, describe=describe_batch,
                what=f"batch {batch_id}", timeout=timeout)


def save_results(api: Api, batch_id: str, target: Path) -> int:
    """Stream the batch's results (JSON Lines, item order) to ``target``; returns lines."""
    lines = 0
    with api.stream(f"/api/batches/{batch_id}/results") as resp, target.open("wb") as out:
        for chunk in resp.iter_bytes():
            out.write(chunk)
            lines += chunk.count(b"\n")
    return lines


def finish_batch(batch: dict[str, Any]) -> None:
    print_json(batch)
    if batch["status"] not in BATCH_RUNNING and batch["status"] != "COMPLETED":
        stderr.print(f"batch {batch['id']} ended {batch['status']}", highlight=False)
        raise typer.Exit(EXIT_NOT_COMPLETED)


@batch_app.command("submit")
@handled
def submit_batch(
    api: Api,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         metavar="FILE", help="JSON Lines (one payload per line) or CSV")],
    job_type: Annotated[str, typer.Option("--type", help="every item's job type")],
    owner: Owner = None,
    name: Annotated[str | None, typer.Option(help="the batch's name (default: the file's)")] = None,
    file_format: Annotated[str | None, typer.Option(
        "--format", help="jsonl or csv (default: from the extension)")] = None,
    all_or_nothing: Annotated[bool, typer.Option(
        "--all-or-nothing", help="refuse the whole batch if an item is invalid")] = False,
    webhook_url: Annotated[str | None, typer.Option(help="POSTed the batch when it ends")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the batch to end")] = False,
    results: Annotated[Path | None, typer.Option(
        help="write the results here (JSON Lines) once it ended; implies --wait")] = None,
    timeout: Timeout = None,
) -> None:
    """Upload FILE and start a batch of TYPE jobs; print the batch as JSON."""
    if file_format not in (None, "jsonl", "csv"):
        raise typer.BadParameter("jsonl or csv", param_hint="--format")
    uploaded = upload_file(api, file, owner=owner)
    batch = api.post("/api/batches", batch_request(
        key=uploaded["key"], job_type=job_type, owner=owner, name=name or file.name,
        file_format=format_of(file, file_format), all_or_nothing=all_or_nothing,
        webhook_url=webhook_url))
    stderr.print(f"batch {batch['id']} started", highlight=False)
    if wait or results:
        batch = wait_for_batch(api, batch["id"], timeout=timeout)
        if results:
            lines = save_results(api, batch["id"], results)
            stderr.print(f"{lines} result line(s) written to {results}", highlight=False, markup=False)
    finish_batch(batch)


@batch_app.command("status")
@handled
def batch_status(
    api: Api,
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    watch: Annotated[bool, typer.Option("--watch", help="follow it until it ends")] = False,
    timeout: Timeout = None,
) -> None:
    """A batch as JSON: counts, progress, failures (with --watch: once it ended)."""
    if watch:
        finish_batch(wait_for_batch(api, batch_id, timeout=timeout))
    else:
        print_json(api.get(f"/api/batches/{batch_id}"))


@batch_app.command("cancel")
@handled
def batch_cancel(api: Api, batch_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Cancel a batch: its queued jobs never run, running ones stop at their next check."""
    print_json(api.post(f"/api/batches/{batch_id}/cancel"))


@batch_app.command("results")
@handled
def batch_results(
    api: Api,
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the JSON Lines file to write")],
) -> None:
    """Save a batch's results so far (one JSON line per item, in item order)."""
    lines = save_results(api, batch_id, output)
    stderr.print(f"{lines} result line(s) written to {output}", highlight=False, markup=False)
