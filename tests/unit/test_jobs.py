"""tasks/jobs.py: each delivery outcome becomes the Celery state Flower shows, and the SQS
message is deleted or left exactly as before (issue 12, item 12)."""

from __future__ import annotations

import pickle
from unittest.mock import Mock

import pytest
from billiard.einfo import ExceptionInfo
from celery import Celery
from celery.contrib.testing.mocks import TaskMessage
from celery.events.state import State
from celery.exceptions import Ignore

from tasks.execution import DEAD_LETTER, Outcome
from tasks.jobs import (
    AttemptFailed,
    JobDeadLettered,
    JobFailed,
    JobRetried,
    JobRevoked,
    Redelivery,
    SqsRequest,
    raise_outcome,
)

JOB = "8a6c2f0e-5d1b-4f7e-9c3a-2b1d0e9f8a7c"


# ------------------------------------------------------------------- outcome → exception


@pytest.mark.parametrize(
    ("outcome", "raised", "text"),
    [
        (Outcome("failed", error="gave up after 3 attempts: boom"), JobFailed, "gave up"),
        (Outcome(DEAD_LETTER, error="moved to the dead-letter queue"), JobDeadLettered, "moved"),
        (Outcome("retry", error="boom"), JobRetried, "boom"),
        ("cancelled", JobRevoked, "cancelled"),
        ("missing", JobFailed, "does not exist"),
        ("not-written-yet", Redelivery, "not written yet"),
        (Outcome("duplicate", status="FAILED", error="gave up: boom"), JobFailed, "gave up"),
        (Outcome("duplicate", status="CANCELLED"), JobRevoked, "cancelled"),
        ("duplicate", Ignore, "duplicate"),  # status unknown: claim nothing
        ("held", Ignore, "held"),
        ("lost", Ignore, "lost"),
        ("recycled", Ignore, "recycled"),
        ("some-new-outcome", Ignore, "some-new-outcome"),
    ],
)
def test_each_outcome_raises_what_gives_its_state(outcome, raised, text):
    with pytest.raises(raised) as caught:
        raise_outcome(JOB, outcome)
    assert text in str(caught.value) or text in repr(getattr(caught.value, "exc", None))


def test_completed_and_a_duplicate_of_a_completed_job_are_successes():
    assert raise_outcome(JOB, "completed") == "completed"
    assert raise_outcome(JOB, Outcome("duplicate", status="COMPLETED")) == "completed"


def test_an_outcome_compares_as_its_plain_name():
    outcome = Outcome("retry", error="boom")
    assert outcome == "retry" and outcome in {"retry": 1} and outcome.error == "boom"


# ---------------------------------------------------- acknowledgement and events, per exception


def _request() -> tuple[SqsRequest, Mock, Mock, list[tuple[str, dict]]]:
    """A SqsRequest for a task configured like celeryconfig.py's (acks_late, no ack on failure)."""
    app = Celery("t", set_as_current=False)
    app.conf.update(task_acks_late=True, task_acks_on_failure=False,
                    task_reject_on_worker_lost=True, task_ignore_result=True)

    @app.task(name="batchlab.run_job", bind=True, Request=SqsRequest)
    def run_job(self, job_id):  # pragma: no cover - never run, only its options matter
        return job_id

    events: list[tuple[str, dict]] = []
    eventer = Mock(enabled=True)
    eventer.send.side_effect = lambda type_, **fields: events.append((type_, fields))
    on_ack, on_reject = Mock(), Mock()
    message = TaskMessage(run_job.name, id=JOB, args=[JOB])
    message.delivery_info = {"sqs_queue": "https://sqs.invalid/batchlab-jobs", "sqs_message": {
        "ReceiptHandle": "rh", "Attributes": {"ApproximateReceiveCount": "1"}}}
    request = SqsRequest(message, app=app, task=run_job, on_ack=on_ack, on_reject=on_reject,
                         eventer=eventer)
    return request, on_ack, on_reject, events


def _fail_with(request: SqsRequest, exc: BaseException) -> None:
    try:
        raise exc
    except BaseException:  # noqa: BLE001 - captured as the pool hands it to the main process
        exc_info = pickle.loads(pickle.dumps(ExceptionInfo()))  # through the pool's pipe
    request.on_failure(exc_info, return_ok=True)  # as from on_success(failed=True)


@pytest.mark.parametrize(
    ("exc", "deleted", "event", "text"),
    [
        (JobFailed("gave up: boom"), True, "task-failed", "gave up: boom"),
        (JobDeadLettered("moved to the DLQ"), False, "task-failed", "moved to the DLQ"),
        (JobRetried("boom (next sent)", AttemptFailed("boom")), True, "task-retried", "boom"),
        (Redelivery("ClientError (again)", AttemptFailed("ClientError")), False, "task-retried",
         "ClientError"),
        (JobRevoked("cancelled"), True, "task-revoked", None),
        (Ignore("held"), True, None, None),
        # Not ours: Celery's own handling, unchanged (unacknowledged, FAILURE).
        (RuntimeError("bug"), False, "task-failed", "bug"),
    ],
)
def test_the_message_is_deleted_or_left_and_the_event_sent(exc, deleted, event, text):
    request, on_ack, on_reject, events = _request()
    _fail_with(request, exc)

    if deleted:
        on_ack.assert_called_once()
        on_reject.assert_not_called()
    else:  # on SQS a reject without requeue leaves the message: back after its visibility
        on_ack.assert_not_called()
        assert [c.args[2] for c in on_reject.call_args_list] == [False]
    outcome_events = [(t, f) for t, f in events if t != "task-rejected"]
    assert [t for t, _ in outcome_events] == ([event] if event else [])
    if text:
        assert text in outcome_events[0][1]["exception"]


# ------------------------------------------------------------ what Flower makes of the events


def _replay(*types: str) -> str:
    """The state celery.events.state (Flower's) gives one task after these events, in order."""
    state = State()
    for clock, type_ in enumerate(types, start=1):
        state.event({"type": f"task-{type_}", "uuid": JOB, "hostname": "w1@vm", "clock": clock,
                     "timestamp": 1e9 + clock, "local_received": 1e9 + clock})
    return state.tasks[JOB].state


def test_three_attempts_of_one_task_end_failure_and_a_duplicate_keeps_it():
    attempts = ("received", "started", "retried") * 2 + ("received", "started", "failed")
    assert _replay(*attempts) == "FAILURE"
    assert _replay(*attempts, "received", "started", "failed") == "FAILURE"  # what we send
    # Why a duplicate must not end in task-succeeded: SUCCESS overrides FAILURE.
    assert _replay(*attempts, "received", "started", "succeeded") == "SUCCESS"
    # ... and why a re-check (held) sends no outcome: a late RETRY overrides even SUCCESS.
    assert _replay("received", "started", "succeeded", "retried") == "RETRY"
    assert _replay("received", "started", "succeeded", "received", "started") == "SUCCESS"
