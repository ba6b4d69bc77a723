"""The completion webhook: POST the Batch to its webhookUrl, once per end, signed.

``X-BatchLab-Signature: sha256=<hex HMAC-SHA256 of the raw body, key
BATCHLAB_WEBHOOK_SECRET>`` and ``X-BatchLab-Batch: <id>``. Run by the task
``batchlab.batch_webhook`` (tasks/batches.py), which retries with exponential backoff
(SQS DelaySeconds) up to ``webhook_max_attempts``. Once only: a run first claims the
call on the meta item (conditional, for the call's timeout), and a 2xx answer sets
``WebhookSent`` to the batch's Gen; a run that finds either does nothing. (A receiver
that answered 2xx but whose answer was lost is called again: at least once, in effect
once per end.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
import urllib.error
import urllib.request
import uuid

from core.batches import sending, table
from core.settings import settings

log = logging.getLogger("batchlab.batches")

WEBHOOK_TASK = "batchlab.batch_webhook"


def signature(body: bytes, *, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.webhook_secret).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def backoff(attempt: int) -> int:
    """Full jitter, 2 s doubling, at most 900 s (SQS's DelaySeconds limit)."""
    return max(1, int(random.uniform(0, min(900, 2.0 * 2 ** (attempt - 1)))))


def deliver(batch_id: str, attempt: int) -> str:
    from core.batches import service  # the Batch as the API shows it

    meta = table.get_meta(batch_id, consistent=True)
    if meta is None or not meta.get("WebhookUrl") or not meta.get("ResultsKey"):
        return "nothing to send"
    gen = int(meta.get("Gen", 0))
    if int(meta.get("WebhookSent", -1)) == gen:
        return "already sent"
    token = uuid.uuid4().hex
    now = time.time()
    claimed = table.update_meta(
        batch_id, expression="SET WebhookClaim = :t, WebhookClaimUntil = :until",
        condition="(attribute_not_exists(WebhookClaimUntil) OR WebhookClaimUntil < :now) "
                  "AND (attribute_not_exists(WebhookSent) OR WebhookSent <> :gen)",
        values={":t": token, ":until": int(now + settings.webhook_timeout_seconds + 10),
                ":now": int(now), ":gen": gen})
    if claimed is None:
        return "claimed by another run, or sent"
    body = service.view(claimed).model_dump_json(by_alias=True).encode()
    headers = {"Content-Type": "application/json", "X-BatchLab-Signature": signature(body),
               "X-BatchLab-Batch": batch_id}
    request = urllib.request.Request(meta["WebhookUrl"], data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.webhook_timeout_seconds) as resp:
            ok, why = 200 <= resp.status < 300, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        ok, why = False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # refused, timed out, unreachable, bad URL
        ok, why = False, f"{type(exc).__name__}: {exc}"
    if ok:
        table.update_meta(batch_id, expression="SET WebhookSent = :gen REMOVE WebhookClaimUntil",
                          condition="WebhookClaim = :t", values={":gen": gen, ":t": token})
        return "sent"
    table.update_meta(batch_id, expression="REMOVE WebhookClaimUntil",
                      condition="WebhookClaim = :t", values={":t": token})
    if attempt >= settings.webhook_max_attempts:
        log.warning("batch %s: webhook gave up after %d attempts (%s)", batch_id, attempt, why)
        return "gave up"
    delay = backoff(attempt)
    log.info("batch %s: webhook attempt %d failed (%s); again in %d s", batch_id, attempt, why, delay)
    sending.send_task(WEBHOOK_TASK, batch_id, attempt + 1, delay_seconds=delay)
    return "retrying"
