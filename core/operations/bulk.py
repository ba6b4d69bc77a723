"""Bulk actions by filter (issue 15): cancel or retry every job a filter matches.

Always a dry run first: ``dryRun: true`` counts and acts on nothing; executing
needs that count echoed as ``expectedCount`` and is refused (409, with the new
count) if the count changed, so nobody acts on a set they have not seen. Bounds:
at most ``limit`` (≤ ``bulk_max_jobs``, 1,000) jobs are acted on, the newest first,
and at most ``bulk_max_examined`` jobs are read to find them; ``capped`` says
that more may match. Each acted job's history gets an entry noted "bulk cancel"
or "bulk retry".

Which jobs: the filter's (core.jobs.listing.JobFilter) intersected with the statuses
the action applies to (cancel: QUEUED, PROCESSING; retry: FAILED, CANCELLED, not
dead-lettered). A tenant's filter is its own jobs (its key's owner); an operator
names an owner, or none for every owner's jobs (a Scan, capped the same way).

Cost: finding N jobs reads as a filtered list does (core.jobs.listing: ~0.51 RRU per job
examined through the owner index; a Scan reads every item it passes); acting is one
conditional UpdateItem per job (1 WRU; the hot item is < 1 KB), and for a retry one
SendMessageBatch per 10 jobs, after the writes (see core.operations.retry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from core.errors import BulkCountChanged, InvalidField
from core.jobs import listing, transitions
from core.jobs.status import JobStatus
from core.operations.retry import requeue, undo_requeue
from core.settings import settings

log = logging.getLogger("batchlab.operations")

Action = Literal["cancel", "retry"]
APPLIES_TO: dict[str, frozenset[JobStatus]] = {
    "cancel": frozenset({JobStatus.QUEUED, JobStatus.PROCESSING}),
    "retry": frozenset({JobStatus.FAILED, JobStatus.CANCELLED}),
}
SHOWN_IDS = 100
_THREADS = 8  # conditional writes in parallel: 1,000 jobs in ~1 s rather than ~5


def _effective(flt: listing.JobFilter, action: Action) -> listing.JobFilter | None:
    statuses = APPLIES_TO[action] & flt.statuses if flt.statuses else APPLIES_TO[action]
    if not statuses:
        return None
    return listing.JobFilter(
        owner_id=flt.owner_id, statuses=frozenset(statuses), type=flt.type, name=flt.name,
        name_match=flt.name_match, created_after=flt.created_after,
        created_before=flt.created_before, order="newest",
    )


def find(flt: listing.JobFilter, *, action: Action, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The jobs ``action`` would act on (summaries, newest first), and whether more may match."""
    effective = _effective(flt, action)
    if effective is None:
        return [], False
    progress = listing.Examined()
    budget = settings.bulk_max_examined
    if effective.owner_id is None:
        found = listing.all_matches(effective, want=limit + 1, max_examined=budget, progress=progress)
    else:
        found = listing.owner_matches(effective, start_key=None, want=limit + 1,
                                      max_examined=budget, progress=progress)
    items = [item for item in found
             if not (action == "retry" and item.get("DeadLettered", {}).get("BOOL"))]
    capped = len(items) > limit or progress.more
    return items[:limit], capped


def _act(action: Action, item: dict[str, Any]) -> transitions.TransitionResult:
    if action == "cancel":
        return transitions.cancel_job(item["JobId"]["S"], note="bulk cancel")
    return requeue(item, note="bulk retry")


def run(
    *, flt: listing.JobFilter, action: Action, dry_run: bool, limit: int,
    expected_count: int | None, enqueue_many: Callable[[list[str]], list[str]],
) -> dict[str, Any]:
    """Count (dry run) or act; the answer's fields are the API's (BulkResult).

    Steps when executing:
      1. find the jobs again; if their count is not ``expected_count``: BulkCountChanged;
      2. one conditional UpdateItem per job (8 at a time); a job that moved since it
         was read is skipped (not counted in ``acted``);
      3. retry: send the requeued JobIds (SendMessageBatch); a job whose message SQS
         refused is put back as it was.
    """
    if not dry_run and expected_count is None:
        raise InvalidField("expectedCount", "required to execute: the matched count of the dry run")
    limit = min(limit, settings.bulk_max_jobs)
    items, capped = find(flt, action=action, limit=limit)
    ids = [item["JobId"]["S"] for item in items]
    answer = {"action": action, "dry_run": dry_run, "matched": len(items), "acted": 0,
              "capped": capped, "job_ids": ids[:SHOWN_IDS]}
    if dry_run:
        return answer
    if len(items) != expected_count:
        raise BulkCountChanged(expected=expected_count, matched=len(items))
    with ThreadPoolExecutor(_THREADS) as pool:
        results = list(pool.map(lambda item: _act(action, item), items))
    acted = [(item, r) for item, r in zip(items, results, strict=True) if r.ok]
    if action == "retry" and acted:
        refused = set(enqueue_many([item["JobId"]["S"] for item, _ in acted]))
        for item, r in acted:
            if item["JobId"]["S"] in refused:
                undo_requeue(item["JobId"]["S"], old=item, new=r.item or {})
        acted = [(item, r) for item, r in acted if item["JobId"]["S"] not in refused]
    log.info("bulk %s: %d matched, %d acted (owner %s)", action, len(items), len(acted),
             flt.owner_id or "*")
    acted_ids = [item["JobId"]["S"] for item, _ in acted]
    return {**answer, "acted": len(acted), "job_ids": acted_ids[:SHOWN_IDS]}
