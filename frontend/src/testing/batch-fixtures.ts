import { Injectable } from '@angular/core';
import { defer, finalize, Observable, startWith, Subject, switchMap } from 'rxjs';

import { Batch, BatchSummary } from '../app/core/models/batch.model';
import { Outcome } from '../app/core/models/outcome.model';
import { FollowOptions, untilEnded } from '../app/core/services/follow';
import { PollOptions, toOutcome } from '../app/core/services/polling.service';

export const BATCH_ID = '7c1d2e3f-0a1b-4c5d-8e9f-a0b1c2d3e4f5';

export function makeBatch(overrides: Partial<Batch> = {}): Batch {
  return {
    id: BATCH_ID,
    name: 'March exports',
    type: 'sha256',
    ownerId: 'alice',
    status: 'RUNNING',
    total: 2000,
    ingested: 2000,
    counts: { QUEUED: 1200, PROCESSING: 40, COMPLETED: 700, FAILED: 60, CANCELLED: 0 },
    progress: 38,
    createdAt: '2026-01-01T10:00:00Z',
    startedAt: '2026-01-01T10:00:01Z',
    finishedAt: null,
    throughput: 12.5,
    etaSeconds: 99,
    invalid: { count: 0, items: [] },
    failures: [
      { index: 7, jobId: 'job-7', error: 'ValueError: simulated failure' },
      { index: 19, jobId: 'job-19', error: 'TimeoutError: too slow' },
    ],
    resultsUrl: null,
    webhookUrl: null,
    ...overrides,
  };
}

/** A batch that ended with failures, its results file in S3. */
export function makeEndedBatch(overrides: Partial<Batch> = {}): Batch {
  return makeBatch({
    status: 'COMPLETED_WITH_FAILURES',
    counts: { QUEUED: 0, PROCESSING: 0, COMPLETED: 1940, FAILED: 60, CANCELLED: 0 },
    progress: 100,
    finishedAt: '2026-01-01T10:02:41Z',
    etaSeconds: null,
    resultsUrl: 'http://127.0.0.1:4566/batchlab-data/batches/b/results.jsonl?X-Amz-Signature=x',
    ...overrides,
  });
}

export function makeBatchSummary(id: string, overrides: Partial<BatchSummary> = {}): BatchSummary {
  const { failures: _f, resultsUrl: _r, ...summary } = makeBatch({ id, name: `Batch ${id}` });
  return { ...summary, invalid: { count: 0 }, ...overrides };
}

/**
 * Stands in for PollingService in component specs: a poll runs its request at once and then
 * on each `tick()`, so a spec counts requests per tick whatever the real service's timing
 * (fixed interval, back-off) is. `active` is the number of polls still subscribed.
 */
@Injectable()
export class ManualPolling {
  readonly intervalMs = 5000;
  active = 0;
  private readonly ticks$ = new Subject<void>();

  pollWhileVisible<T>(request: () => Observable<T>, options: PollOptions = {}): Observable<T> {
    return defer(() => {
      this.active += 1;
      const ticks$ = this.ticks$.asObservable();
      return (options.startLater ? ticks$ : ticks$.pipe(startWith(undefined))).pipe(
        switchMap(() => request()),
        finalize(() => (this.active -= 1)),
      );
    });
  }

  followUntil<T>(request: () => Observable<T>, options: FollowOptions<T>): Observable<Outcome<T>> {
    return this.pollWhileVisible(() => toOutcome(request())).pipe(untilEnded(options));
  }

  tick(): void {
    this.ticks$.next();
  }
}
