import { inject, Injectable, InjectionToken } from '@angular/core';
import { catchError, defer, EMPTY, map, Observable, of, repeat, switchMap, tap, timer } from 'rxjs';

import { toApiError } from '../interceptors/problem.interceptor';
import { Outcome } from '../models/outcome.model';
import { isApiError } from '../models/problem.model';
import { FollowOptions, untilEnded } from './follow';
import { PageVisibilityService } from './page-visibility.service';

/** Default polling period of the status view, the job list and the queue panel. */
export const DEFAULT_POLL_INTERVAL_MS = 5000;

/** Polling period in milliseconds; override it in tests or deployments. */
export const POLL_INTERVAL_MS = new InjectionToken<number>('POLL_INTERVAL_MS', {
  providedIn: 'root',
  factory: () => DEFAULT_POLL_INTERVAL_MS,
});

/**
 * Issue 15: the first delays of a back-off poll, before the steady interval. A job that
 * finishes in 60 ms shows COMPLETED after the 0.5 s request instead of 5 s later; a job
 * still running after 3.5 s costs one request per interval, as before.
 */
export const DEFAULT_POLL_BACKOFF_MS: readonly number[] = [500, 1000, 2000];

export const POLL_BACKOFF_MS = new InjectionToken<readonly number[]>('POLL_BACKOFF_MS', {
  providedIn: 'root',
  factory: () => DEFAULT_POLL_BACKOFF_MS,
});

export interface PollOptions {
  /** Poll fast first (POLL_BACKOFF_MS), then every interval. Once per subscription. */
  backoff?: boolean;
  /** Poll every `slowdown` intervals (e.g. 2 for figures that change every 10 s). */
  slowdown?: number;
  /**
   * Wait one period before the first request (later visible phases still request at once):
   * for a loop whose first answer came another way, e.g. PollTurns' members.
   */
  startLater?: boolean;
}

/**
 * Builds polling streams: `request` runs at once and then after each delay (the back-off
 * delays if asked, then the interval), only while the tab is visible (a hidden tab pauses;
 * becoming visible requests at once and resumes). The next request is sent only once the
 * previous one has answered, so a slow server never sees two requests from one page.
 *
 * A failed request wrapped by `toOutcome` that carries `Retry-After` (503, 429) delays
 * the next request by at least that long.
 *
 * `request` must not error: callers catch inside it (e.g. map failures to a value)
 * so that one failed request never ends the polling. The returned stream never
 * completes by itself; callers end it with `takeUntilDestroyed()` / `takeWhile()`.
 */
@Injectable({ providedIn: 'root' })
export class PollingService {
  private readonly visibility = inject(PageVisibilityService);
  private readonly periodMs = inject(POLL_INTERVAL_MS);
  private readonly backoffMs = inject(POLL_BACKOFF_MS);

  get intervalMs(): number {
    return this.periodMs;
  }

  pollWhileVisible<T>(request: () => Observable<T>, options: PollOptions = {}): Observable<T> {
    return defer(() => {
      // Shared across visibility changes: the fast start happens once, not on every tab switch.
      const delays = options.backoff ? [...this.backoffMs] : [];
      const periodMs = this.periodMs * Math.max(1, options.slowdown ?? 1);
      let firstDelayMs = options.startLater ? periodMs : 0;
      return this.visibility.visible$.pipe(
        switchMap((visible) => {
          if (!visible) {
            return EMPTY;
          }
          const waitMs = firstDelayMs;
          firstDelayMs = 0;
          const loop = this.loop(request, delays, periodMs);
          return waitMs > 0 ? timer(waitMs).pipe(switchMap(() => loop)) : loop;
        }),
      );
    });
  }

  /**
   * Follows one thing until it has ended (a job's page, a batch's page): polls `request`
   * (failures wrapped as outcomes, shown and polled through) while visible, and stops after
   * the answer that `isEnded`, once `keepWhile` says so, or on `stop$`.
   */
  followUntil<T>(request: () => Observable<T>, options: FollowOptions<T>): Observable<Outcome<T>> {
    return this.pollWhileVisible(() => toOutcome(request()), { backoff: options.backoff }).pipe(
      untilEnded(options),
    );
  }

  private loop<T>(request: () => Observable<T>, delays: number[], periodMs: number): Observable<T> {
    let retryAfterMs = 0;
    return defer(request).pipe(
      tap((value) => (retryAfterMs = retryAfterMsOf(value))),
      repeat({
        delay: () => timer(Math.max(delays.shift() ?? periodMs, retryAfterMs)),
      }),
    );
  }
}

/** The Retry-After of a failed outcome, in ms (0 for anything else). */
export function retryAfterMsOf(value: unknown): number {
  if (typeof value !== 'object' || value === null || (value as { ok?: unknown }).ok !== false) {
    return 0;
  }
  const error = (value as { error?: unknown }).error;
  return isApiError(error) && error.retryAfterSeconds !== null ? error.retryAfterSeconds * 1000 : 0;
}

/**
 * Wraps a request so that it never errors: values become `{ ok: true }` outcomes
 * and failures `{ ok: false, error }`. Use it inside the polling `switchMap`.
 */
export function toOutcome<T>(source: Observable<T>): Observable<Outcome<T>> {
  return source.pipe(
    map((value): Outcome<T> => ({ ok: true, value })),
    catchError((error: unknown) => of<Outcome<T>>({ ok: false, error: toApiError(error) })),
  );
}
