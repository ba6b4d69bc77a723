"""``acme-primes``: a handler that takes the context, to report progress and stop
when its job is cancelled."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.jobs.job_types import HandlerError, JobCancelled, JobContext, job_type

SEGMENT = 100_000  # numbers sieved between two progress reports / cancellation checks


class PrimesPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    below: int = Field(ge=2, le=20_000_000, description="count the primes under this number")


def _small_primes(limit: int) -> list[int]:
    sieve = bytearray([1]) * (limit + 1)
    sieve[0:2] = b"\x00\x00"
    for n in range(2, math.isqrt(limit) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytes(len(range(n * n, limit + 1, n)))
    return [n for n in range(limit + 1) if sieve[n]]


@job_type(
    "acme-primes",
    payload=PrimesPayload,
    example={"below": 1_000_000},
    description="ACME: count the primes below a number (a segmented sieve, with progress).",
)
def count_primes(payload: PrimesPayload, ctx: JobContext) -> dict[str, Any]:
    # A segmented sieve keeps memory at one segment whatever `below` is.
    base = _small_primes(math.isqrt(payload.below))
    count, largest = 0, None
    for low in range(2, payload.below, SEGMENT):
        if ctx.is_cancelled():
            raise JobCancelled()
        high = min(low + SEGMENT, payload.below)
        segment = bytearray([1]) * (high - low)
        for p in base:
            start = max(p * p, (low + p - 1) // p * p)
            if start >= high:
                continue
            segment[start - low :: p] = bytes(len(range(start, high, p)))
        found = [low + i for i, is_prime in enumerate(segment) if is_prime]
        if found:
            count += len(found)
            largest = found[-1]
        ctx.report_progress(int(100 * (high - 2) / max(1, payload.below - 2)))
    if largest is None:
        raise HandlerError(f"there is no prime below {payload.below}")
    return {"below": payload.below, "count": count, "largest": largest}
