"""core/motoserver.py: moto's DynamoDB requests run one at a time (AWS's conditional writes
are atomic, moto's threads are not), the others concurrently (an SQS long poll waits)."""

from __future__ import annotations

import threading
import time

from core.motoserver import OneDynamoDBRequestAtATime


class SlowApp:
    """A WSGI app that takes a while per request and records how many ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.closed = 0

    def __call__(self, environ, start_response):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        start_response("200 OK", [])
        app = self

        class Body(list):
            def close(self):
                app.closed += 1

        return Body([b"{", b"}"])


def most_at_once(target: str) -> tuple[int, list[bytes], SlowApp]:
    inner = SlowApp()
    app = OneDynamoDBRequestAtATime(inner)
    answers: list[bytes] = []

    def call():
        answers.append(b"".join(app({"HTTP_X_AMZ_TARGET": target}, lambda *a: None)))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return inner.most, answers, inner


def test_dynamodb_requests_run_one_at_a_time_and_answer_whole():
    most, answers, inner = most_at_once("DynamoDB_20120810.UpdateItem")
    assert most == 1
    assert answers == [b"{}"] * 6 and inner.closed == 6


def test_other_requests_still_run_together():
    most, answers, _ = most_at_once("AmazonSQS.ReceiveMessage")
    assert most > 1
    assert answers == [b"{}"] * 6
