"""moto in server mode, as ``moto_server`` runs it, with DynamoDB's requests one at a time.

    python -m core.motoserver -H 127.0.0.1 -p 4567

On AWS a conditional write is atomic: its condition is checked and its change applied as
one step, and a read never sees half of a write. moto's server handles each request in a
thread of its own and changes items in place without a lock, so under load (2 cores,
many workers) two conditional writes could both pass their check on the same item, and a
read iterating an item's attributes while another request changes them fails with a 500
("dictionary changed size during iteration", seen in our test runs on BatchGetItem). The
first made a cancelled batch child run and complete anyway, a state DynamoDB never allows.

So DynamoDB requests (``X-Amz-Target: DynamoDB_…``) go through one lock here: one at a
time, as a single moto process would run them anyway (it is bound to one core by the
GIL). Everything else (SQS long polls, SNS, S3) stays concurrent: an SQS receive waits up
to 20 s and must not hold the others up. Local and test stacks only; on AWS there is no moto.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneDynamoDBRequestAtATime:
    """WSGI middleware: DynamoDB requests run and answer under one lock; others pass."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return self.app(environ, start_response)
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]  # the whole answer, built under the lock
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto_server does (its URLs)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined] - as moto_server sets it
    run_simple(args.host, args.port, OneDynamoDBRequestAtATime(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
