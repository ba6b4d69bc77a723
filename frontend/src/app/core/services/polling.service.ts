import { inject, Injectable, InjectionToken } from '@angular/core';
import { catchError, EMPTY, interval, map, Observable, of, startWith, switchMap } from 'rxjs';

import { toApiError } from '../interceptors/problem.interceptor';
import { Outcome } from '../models/outcome.model';
import { PageVisibilityService } from './page-visibility.service';

/** Default polling period of the status view, the job list and the queue panel. */
export const DEFAULT_POLL_INTERVAL_MS = 5000;

/** Polling period in milliseconds; override it in tests or deployments. */
export const POLL_INTERVAL_MS = new InjectionToken<number>('POLL_INTERVAL_MS', {
  providedIn: 'root',
  factory: () => DEFAULT_POLL_INTERVAL_MS,
});

/**
 * Builds polling streams: `request` runs at once and then every interval, only
 * while the tab is visible (a hidden tab pauses the interval; becoming visible
 * requests at once and resumes).
 *
 * `request` must not error: callers catch inside it (e.g. map failures to a value)
 * so that one failed request never ends the interval. The returned stream never
 * completes by itself; callers end it with `takeUntilDestroyed()` / `takeWhile()`.
 */
@Injectable({ providedIn: 'root' })
export class PollingService {
  private readonly visibility = inject(PageVisibilityService);
  private readonly periodMs = inject(POLL_INTERVAL_MS);

  get intervalMs(): number {
    return this.periodMs;
  }

  pollWhileVisible<T>(request: () => Observable<T>): Observable<T> {
    return this.visibility.visible$.pipe(
      switchMap((visible) => (visible ? interval(this.periodMs).pipe(startWith(-1)) : EMPTY)),
      switchMap(() => request()),
    );
  }
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
