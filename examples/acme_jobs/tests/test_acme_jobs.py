"""ACME's own tests of its job types, run by BatchLab's test command (pytest
testpaths include examples/). Importing acme_jobs registers the types, as
BATCHLAB_JOB_MODULES=acme_jobs does in the API and the workers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import acme_jobs  # noqa: F401 - registers the types
from core.jobs.job_types import REGISTRY, HandlerError, JobCancelled, NullContext


class Recording(NullContext):
    def __init__(self, *, cancelled: bool = False) -> None:
        self.progress: list[int] = []
        self.cancelled = cancelled

    def report_progress(self, percent: int) -> None:
        self.progress.append(percent)

    def is_cancelled(self) -> bool:
        return self.cancelled


def run(name: str, payload: dict, ctx=None) -> dict:
    return REGISTRY[name].run(payload, ctx or NullContext())


def test_both_types_are_registered_with_valid_examples():
    for name in ("acme-invoice-total", "acme-primes"):
        job_type = REGISTRY[name]
        job_type.payload_model.model_validate(job_type.example)


def test_invoice_total_is_exact_to_the_cent():
    out = run("acme-invoice-total", {
        "currency": "EUR", "taxRatePercent": 23,
        "lines": [{"description": "a", "quantity": 3, "unitPrice": 0.1},
                  {"description": "b", "quantity": 1, "unitPrice": "2.005"}],
    })
    # 0.30 + 2.005 = 2.305 -> 2.31 (half up); tax 23 % of 2.31 = 0.5313 -> 0.53
    assert out == {"currency": "EUR", "lines": 2, "subtotal": "2.31", "tax": "0.53",
                   "total": "2.84"}


@pytest.mark.parametrize("payload", [
    {"currency": "euro", "lines": [{"description": "a", "quantity": 1, "unitPrice": 1}]},
    {"currency": "EUR", "lines": []},
    {"currency": "EUR", "lines": [{"description": "a", "quantity": 0, "unitPrice": 1}]},
])
def test_invoice_payload_is_validated(payload):
    with pytest.raises(ValidationError):
        REGISTRY["acme-invoice-total"].payload_model.model_validate(payload)


@pytest.mark.parametrize(("below", "count", "largest"), [(3, 1, 2), (100, 25, 97),
                                                         (250_001, 22_044, 249_989)])
def test_primes_are_counted_with_progress(below, count, largest):
    ctx = Recording()
    assert run("acme-primes", {"below": below}, ctx) == {
        "below": below, "count": count, "largest": largest}
    assert ctx.progress[-1] == 100
    assert ctx.progress == sorted(ctx.progress)


def test_primes_stop_when_cancelled():
    with pytest.raises(JobCancelled):
        run("acme-primes", {"below": 1_000_000}, Recording(cancelled=True))


def test_handler_error_is_permanent():
    with pytest.raises(HandlerError):
        run("acme-primes", {"below": 2})
