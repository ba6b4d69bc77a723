"""Dual-write benchmark: does every accepted job finish, and is any job left orphaned,
when the API dies or a backend freezes between "send the message" and "store the job"?

    .venv/bin/python bench/dualwrite.py [--kills 8] [--clients 6] [--freeze-seconds 8]

Real processes on a private moto: an API on a fixed port, two workers, a short
dispatch grace (BATCHLAB_DISPATCH_GRACE_SECONDS=30). Scenarios, each with its own
owner so its jobs can be told apart:

* ``kill-api``, ``kill-api-idempotent``: client threads submit jobs back to back,
  retrying every failed request (connection error, timeout, 5xx) until it gets a
  202; the idempotent one sends an Idempotency-Key per logical job and retries with
  it. Meanwhile the API's process group is SIGKILLed ``--kills`` times, each time
  0.3-1.2 s after it came back, and restarted on the same port.
* ``freeze-dynamodb``, ``freeze-sqs``: the same clients (no key) while one moto
  process is SIGSTOPped for ``--freeze-seconds`` (past the client's 2 s timeout,
  and past the API's own bounded retries), then SIGCONTed.

After each scenario it waits for the accepted jobs to finish and for the grace to
pass, then reads every job of the scenario's owner from DynamoDB and prints:

    accepted   distinct jobs the client got a 202 for (first answer or replay)
    terminal   accepted jobs that reached COMPLETED/FAILED/CANCELLED
    stuck      accepted jobs not terminal at the end (target 0)
    unacked    stored jobs the client never got a 202 for (they ran, or ...)
    orphaned   ... of those, still QUEUED after the grace (target 0)
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devstack import Service, Stack, free_port, wait_for  # noqa: E402

GRACE = 30
ENV = {
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
    "BATCHLAB_VISIBILITY_TIMEOUT": "20",
    "BATCHLAB_DISPATCH_GRACE_SECONDS": str(GRACE),
    "BATCHLAB_METER_FLUSH_SECONDS": "0",
}
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
CLIENT_TIMEOUT = 2.0


class Api:
    """The API on one fixed port, so clients keep their URL across kills."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service: Service | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log"]
        self.service = self.stack.spawn("api", argv)
        self.service.wait_log("Application startup complete", timeout=90)

    def kill(self) -> None:
        assert self.service is not None
        self.service.signal_group(signal.SIGKILL)
        self.service.proc.wait(timeout=10)


class Clients:
    """Threads submitting sha256 jobs back to back, each retried until it gets a 202."""

    def __init__(self, url: str, *, owner: str, idempotent: bool, threads: int) -> None:
        self.url = url
        self.owner = owner
        self.idempotent = idempotent
        self.accepted: set[str] = set()
        self.requests = 0
        self.gave_up = 0
        self.refused: dict[int, int] = {}  # 4xx answers by status (none expected)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Clients:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=120)

    def _submit_one(self, http: httpx.Client) -> None:
        body = {"name": "dualwrite", "type": "sha256", "ownerId": self.owner,
                "payload": {"text": uuid.uuid4().hex}}
        headers = {"Idempotency-Key": uuid.uuid4().hex} if self.idempotent else {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with self._lock:
                self.requests += 1
            try:
                resp = http.post("/api/jobs", json=body, headers=headers)
            except httpx.HTTPError:
                resp = None
            if resp is not None and resp.status_code == 202:
                with self._lock:
                    self.accepted.add(resp.json()["id"])
                return
            if resp is not None and resp.status_code < 500:
                with self._lock:
                    self.refused[resp.status_code] = self.refused.get(resp.status_code, 0) + 1
                return
            time.sleep(0.2)  # a client's retry pause, not a synchronisation
        with self._lock:
            self.gave_up += 1

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT) as http:
            while not self._stop.is_set():
                self._submit_one(http)


def owner_items(stack: Stack, owner: str) -> list[dict]:
    ddb = boto3.client("dynamodb", endpoint_url=stack.env["AWS_ENDPOINT_URL_DYNAMODB"],
                       region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    items: list[dict] = []
    for page in ddb.get_paginator("scan").paginate(
        TableName="Jobs", ConsistentRead=True, FilterExpression="OwnerId = :o",
        ExpressionAttributeValues={":o": {"S": owner}},
    ):
        items += page["Items"]
    return items


def settle(stack: Stack, owner: str, accepted: set[str]) -> dict:
    """Wait until every accepted job is terminal and the grace has passed; count."""
    last_send = time.monotonic()

    def accepted_done() -> bool:
        items = {i["JobId"]["S"]: i["Status"]["S"] for i in owner_items(stack, owner)}
        return all(items.get(j) in TERMINAL for j in accepted)

    try:
        wait_for(accepted_done, timeout=300, what="accepted jobs to finish", every=1)
    except TimeoutError:
        pass  # reported as stuck below
    # A stored job without a 202 may still be waiting for its message: give it the grace.
    remaining = GRACE + 15 - (time.monotonic() - last_send)

    def all_settled() -> bool:
        return all(i["Status"]["S"] in TERMINAL for i in owner_items(stack, owner))

    try:
        wait_for(all_settled, timeout=max(1.0, remaining), what="every stored job", every=1)
    except TimeoutError:
        pass  # reported as orphaned below
    items = {i["JobId"]["S"]: i["Status"]["S"] for i in owner_items(stack, owner)}
    unacked = {j: s for j, s in items.items() if j not in accepted}
    return {
        "accepted": len(accepted),
        "terminal": sum(1 for j in accepted if items.get(j) in TERMINAL),
        "stuck": sum(1 for j in accepted if items.get(j) not in TERMINAL),
        "unacked": len(unacked),
        "orphaned": sum(1 for s in unacked.values() if s == "QUEUED"),
    }


def kill_scenario(stack: Stack, api: Api, *, idempotent: bool, kills: int, clients: int) -> dict:
    owner = f"dw-kill-{'idem' if idempotent else 'plain'}-{uuid.uuid4().hex[:6]}"
    with Clients(api.url, owner=owner, idempotent=idempotent, threads=clients) as c:
        for _ in range(kills):
            time.sleep(random.uniform(0.3, 1.2))  # let a burst get under way
            api.kill()
            api.start()
        time.sleep(1.0)
    return {"owner": owner, "requests": c.requests, "gaveUp": c.gave_up, "refused": c.refused,
            **settle(stack, owner, c.accepted)}


def freeze_scenario(stack: Stack, api: Api, *, moto: Service, seconds: float, clients: int) -> dict:
    owner = f"dw-freeze-{uuid.uuid4().hex[:6]}"
    with Clients(api.url, owner=owner, idempotent=False, threads=clients) as c:
        time.sleep(1.0)
        moto.signal_group(signal.SIGSTOP)
        time.sleep(seconds)
        moto.signal_group(signal.SIGCONT)
        time.sleep(3.0)
    return {"owner": owner, "requests": c.requests, "gaveUp": c.gave_up, "refused": c.refused,
            **settle(stack, owner, c.accepted)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--freeze-seconds", type=float, default=8.0)
    args = parser.parse_args()

    stack = Stack(Path(tempfile.mkdtemp(prefix="dualwrite-")), extra_env=ENV)
    rows: dict[str, dict] = {}
    started = time.monotonic()
    try:
        stack.start_moto()
        sqs_moto, dynamodb_moto = [s for s in stack.services if s.name.startswith("moto")]
        api = Api(stack)
        api.start()
        stack.start_worker()
        stack.start_worker()
        for idempotent in (False, True):
            name = "kill-api-idempotent" if idempotent else "kill-api"
            rows[name] = kill_scenario(stack, api, idempotent=idempotent, kills=args.kills,
                                       clients=args.clients)
            print(name, json.dumps(rows[name]), flush=True)
        for name, moto in (("freeze-dynamodb", dynamodb_moto), ("freeze-sqs", sqs_moto)):
            rows[name] = freeze_scenario(stack, api, moto=moto, seconds=args.freeze_seconds,
                                         clients=args.clients)
            print(name, json.dumps(rows[name]), flush=True)
    finally:
        stack.stop_all()

    print()
    print(f"{'scenario':<22}{'requests':>9}{'accepted':>9}{'terminal':>9}{'stuck':>7}"
          f"{'unacked':>9}{'orphaned':>9}")
    for name, r in rows.items():
        print(f"{name:<22}{r['requests']:>9}{r['accepted']:>9}{r['terminal']:>9}{r['stuck']:>7}"
              f"{r['unacked']:>9}{r['orphaned']:>9}")
    print(f"\n{args.kills} API kills per kill scenario, {args.freeze_seconds:g} s freezes, "
          f"{args.clients} client threads, grace {GRACE} s; {time.monotonic() - started:.0f} s")
    ok = all(r["stuck"] == 0 and r["orphaned"] == 0 for r in rows.values())
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
