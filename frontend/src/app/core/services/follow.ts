import { computed, signal } from '@angular/core';
import {
  MonoTypeOperatorFunction,
  NEVER,
  Observable,
  pipe,
  Subject,
  takeUntil,
  takeWhile,
} from 'rxjs';

import { Outcome } from '../models/outcome.model';
import { ApiError } from '../models/problem.model';

/** How a status page follows one thing (a job, a batch) until it has ended. */
export interface FollowOptions<T> {
  /** True once the value is final: that answer is delivered, then polling stops. */
  isEnded: (value: T) => boolean;
  /** Poll fast first (POLL_BACKOFF_MS), then every interval. */
  backoff?: boolean;
  /**
   * False once polling should stop after an answer (delivered first), e.g. a job that will
   * never be found (`keepPollingUnlessGone`). Failed requests are otherwise polled through.
   */
  keepWhile?: (outcome: Outcome<T>) => boolean;
  /** Ends polling at once, e.g. when an action's answer showed the thing ended. */
  stop$?: Observable<unknown>;
}

/** The stopping rules of `PollingService.followUntil`, for a stream of polled outcomes. */
export function untilEnded<T>({
  isEnded,
  keepWhile = () => true,
  stop$ = NEVER,
}: FollowOptions<T>): MonoTypeOperatorFunction<Outcome<T>> {
  return pipe(
    takeWhile((outcome) => !(outcome.ok && isEnded(outcome.value)), true),
    takeWhile(keepWhile, true),
    takeUntil(stop$),
  );
}

/**
 * What a status page says about a failed read of the thing it follows (`noun` “id”): not
 * found, unreachable, or the problem; with "Retrying every N s…" until the thing ended.
 */
export function followErrorMessage({
  error,
  noun,
  id,
  ended,
  intervalSeconds,
}: {
  error: ApiError | null;
  noun: string;
  id: string;
  ended: boolean;
  intervalSeconds: number;
}): string | null {
  if (error === null) {
    return null;
  }
  const retrying = ended ? '' : ` Retrying every ${intervalSeconds} s…`;
  if (error.status === 404) {
    return `${noun} “${id}” was not found.${retrying}`;
  }
  if (error.status === 0) {
    return `Cannot reach the server.${retrying}`;
  }
  return `${error.title}: ${error.detail}.${retrying}`;
}

/**
 * What a status page shows of the thing it follows: the last value read, the last failed
 * read (the value stays shown under it) and when the value last arrived. `ended$` emits when
 * an answer (a poll's, or an action's such as a cancel) shows the thing ended: pass it as
 * `stop$` to `followUntil` so polling stops at once.
 */
export class Followed<T> {
  readonly value = signal<T | null>(null);
  readonly loadError = signal<ApiError | null>(null);
  readonly lastUpdated = signal<Date | null>(null);
  readonly ended = computed(() => {
    const value = this.value();
    return value !== null && this.isEnded(value);
  });
  readonly ended$ = new Subject<void>();

  constructor(readonly isEnded: (value: T) => boolean) {}

  apply(outcome: Outcome<T>): void {
    if (!outcome.ok) {
      this.loadError.set(outcome.error);
      return;
    }
    this.value.set(outcome.value);
    this.loadError.set(null);
    this.lastUpdated.set(new Date());
    if (this.isEnded(outcome.value)) {
      this.ended$.next();
    }
  }

  /** Forgets everything, for another id. */
  reset(): void {
    this.value.set(null);
    this.loadError.set(null);
    this.lastUpdated.set(null);
  }
}
