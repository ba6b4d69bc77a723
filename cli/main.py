"""``batchlab``: submit, watch and operate jobs and batches from a terminal.

Every command but ``bootstrap`` and ``dev`` speaks only to the REST API (``--api`` /
``BATCHLAB_API``, key ``--api-key`` / ``BATCHLAB_API_KEY``). Exit codes: 0 done; 1 the
API answered a problem (its title and detail go to stderr) or could not be reached;
2 bad usage; 3 the job or batch ended without completing (FAILED, CANCELLED,
COMPLETED_WITH_FAILURES); 4 ``--timeout`` passed while waiting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli import local
from cli.batches import batch_app
from cli.client import Api
from cli.shared import (
    EXIT_NOT_COMPLETED,
    AsJson,
    Owner,
    Timeout,
    handled,
    parse_json_object,
    print_json,
    stdout,
)
from cli.uploads import upload_file
from cli.waiting import JOB_TERMINAL, describe_job, poll, stderr

HELP = """Submit, watch and operate BatchLab jobs and batches through its REST API.

Exit codes: 0 done; 1 the API answered a problem (title and detail on stderr) or could
not be reached; 2 bad usage; 3 the job or batch ended without completing; 4 --timeout
passed while waiting."""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
dlq_app = typer.Typer(help="The dead-letter queue (operator key).", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(batch_app, name="batch")


@app.callback()
def options(
    ctx: typer.Context,
    api: Annotated[str, typer.Option("--api", envvar="BATCHLAB_API", help="the API's base URL")]
        = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(
        "--api-key", envvar="BATCHLAB_API_KEY", help="sent as X-API-Key")] = None,
) -> None:
    ctx.obj = {"api": api, "api_key": api_key}


def cells(*values: object) -> list[Text]:
    """Table cells as plain text: names and errors are the user's, not rich markup."""
    return [Text("" if value is None else str(value)) for value in values]


def wait_for_job(api: Api, job_id: str, *, timeout: float | None) -> dict[str, Any]:
    return poll(lambda: api.get(f"/api/jobs/{job_id}"), done=lambda j: j["status"] in JOB_TERMINAL,
                describe=describe_job, what=f"job {job_id}", timeout=timeout)


def finish_job(api: Api, job: dict[str, Any]) -> None:
    """Print the job; a result kept in S3 (``resultUrl``) is fetched into ``result``."""
    if job["status"] == "COMPLETED" and job.get("result") is None and job.get("resultUrl"):
        with api.stream(f"/api/jobs/{job['id']}/result") as resp:
            job["result"] = json.loads(resp.read())
    print_json(job)
    if job["status"] in JOB_TERMINAL and job["status"] != "COMPLETED":
        stderr.print(f"job {job['id']} ended {job['status']}"
                     + (f": {job['error']}" if job.get("error") else ""), highlight=False,
                     markup=False)
        raise typer.Exit(EXIT_NOT_COMPLETED)


@app.command()
@handled
def submit(
    api: Api,
    job_type: Annotated[str, typer.Argument(metavar="TYPE", help="a job type (GET /api/job-types)")],
    payload: Annotated[str, typer.Option(help="the payload: JSON, or @file.json (@- for stdin)")],
    owner: Owner = None,
    name: Annotated[str | None, typer.Option(help="the job's name (default: TYPE)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the job to end")] = False,
    timeout: Timeout = None,
    idempotency_key: Annotated[str | None, typer.Option(
        help="sent as Idempotency-Key: a retried submit does not make a second job")] = None,
) -> None:
    """Submit a job; print it as JSON (with --wait: once it ended, with its result)."""
    body = {"name": name or job_type, "type": job_type,
            "payload": parse_json_object(payload, option="--payload"), "ownerId": owner}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    job = api.post("/api/jobs", {k: v for k, v in body.items() if v is not None}, headers=headers)
    if wait:
        finish_job(api, wait_for_job(api, job["id"], timeout=timeout))
    else:
        print_json(job)


@app.command()
@handled
def status(
    api: Api,
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    watch: Annotated[bool, typer.Option("--watch", help="follow it until it ends")] = False,
    timeout: Timeout = None,
) -> None:
    """A job as JSON (with --watch: once it ended)."""
    if watch:
        finish_job(api, wait_for_job(api, job_id, timeout=timeout))
    else:
        print_json(api.get(f"/api/jobs/{job_id}"))


@app.command()
@handled
def cancel(api: Api, job_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Cancel a job (409 problem if it already ended); print it as JSON."""
    print_json(api.post(f"/api/jobs/{job_id}/cancel"))


@app.command()
@handled
def jobs(
    api: Api,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="QUEUED, PROCESSING, ...; repeat it or separate with commas")] = None,
    job_type: Annotated[str | None, typer.Option("--type")] = None,
    name: Annotated[str | None, typer.Option(help="name starts with (or contains) this")] = None,
    name_match: Annotated[str | None, typer.Option(help="prefix (the server's default) or contains")] = None,
    created_after: Annotated[str | None, typer.Option(help="ISO 8601")] = None,
    created_before: Annotated[str | None, typer.Option(help="ISO 8601")] = None,
    order: Annotated[str | None, typer.Option(help="newest (default) or oldest")] = None,
    owner: Owner = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    cursor: Annotated[str | None, typer.Option(help="the nextCursor of the page before")] = None,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest first (one page; --cursor for the next)."""
    statuses = [s.strip().upper() for value in status or [] for s in value.split(",") if s.strip()]
    page = api.get("/api/jobs", ownerId=owner, status=",".join(statuses) or None, type=job_type,
                   name=name, nameMatch=name_match, createdAfter=created_after,
                   createdBefore=created_before, order=order, limit=limit, cursor=cursor)
    if as_json:
        print_json(page)
        return
    table = Table("id", "name", "type", "owner", "status", "progress", "created", box=None)
    for job in page["items"]:
        table.add_row(*cells(job["id"], job["name"], job["type"], job["ownerId"], job["status"],
                             f"{job.get('progress', 0)}%", job["createdAt"]))
    stdout.print(table)
    if page.get("nextCursor"):
        stderr.print(f"more: --cursor {page['nextCursor']}", highlight=False, markup=False)


@dlq_app.command("list")
@handled
def dlq_list(
    api: Api,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    as_json: AsJson = False,
) -> None:
    """Dead-lettered jobs and the queue's approximate depth."""
    page = api.get("/api/dlq", limit=limit)
    if as_json:
        print_json(page)
        return
    table = Table("job", "type", "owner", "attempts", "dead-lettered", "last error", box=None)
    for item in page["items"]:
        table.add_row(*cells(item["jobId"], item.get("type"), item.get("ownerId"),
                             item.get("attempts"), item.get("deadLetteredAt"),
                             item.get("lastError")))
    stdout.print(table)
    stderr.print(f"approximately {page['approximateCount']} message(s) in the DLQ", highlight=False)


@dlq_app.command("redrive")
@handled
def dlq_redrive(
    api: Api,
    job_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="one job only")] = None,
    max_messages: Annotated[int | None, typer.Option(min=1, max=1000)] = None,
) -> None:
    """Move dead-lettered messages back to the jobs queue (all, or one job's); print
    what moved as JSON."""
    if job_id:
        print_json(api.post(f"/api/dlq/{job_id}/redrive"))
    else:
        print_json(api.post("/api/dlq/redrive", params={"maxMessages": max_messages}))


@app.command()
@handled
def cost(
    api: Api,
    window: Annotated[int | None, typer.Option(min=60, max=86_400, help="seconds back")] = None,
    as_json: AsJson = False,
) -> None:
    """What jobs cost and what the idle fleet costs (operator key)."""
    report = api.get("/api/cost", window=window)
    if as_json:
        print_json(report)
        return
    table = Table("", "total", box=None)
    table.add_row("window (s)", str(report["windowSeconds"]))
    table.add_row("jobs created / finished", f"{report['jobsCreated']} / {report['jobsFinished']}")
    for label, figures in (("$ per million jobs", report["dollarsPerMillionJobs"]),
                           ("$ per hour, idle fleet", report["fixedDollarsPerHour"])):
        total = figures.get("total")
        table.add_row(label, "n/a" if total is None else f"{total:.4f}")
    stdout.print(table)


@app.command()
@handled
def upload(
    api: Api,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         metavar="FILE")],
    owner: Owner = None,
    content_type: Annotated[str | None, typer.Option(help="default: from the extension")] = None,
) -> None:
    """Upload a file (presigned, straight to S3); print its key, e.g. for csv-summary's
    {"object": KEY}."""
    print_json(upload_file(api, file, owner=owner, content_type=content_type))


# Last in --help: the two commands that do not go through the API.
app.command(help=local.bootstrap.__doc__)(local.bootstrap)
app.command(help=local.dev.__doc__)(local.dev)

if __name__ == "__main__":
    app(prog_name="batchlab")
