import { TestBed } from '@angular/core/testing';
import { Observable, of, Subscription, throwError } from 'rxjs';

import { setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { Outcome } from '../models/outcome.model';
import { problem } from '../../../testing/fixtures';
import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import {
  DEFAULT_POLL_BACKOFF_MS,
  DEFAULT_POLL_INTERVAL_MS,
  POLL_INTERVAL_MS,
  PollingService,
  toOutcome,
} from './polling.service';

describe('PollingService', () => {
  let service: PollingService;
  let calls: number;
  let subscription: Subscription | undefined;
  const request = (): Observable<number> => of(++calls);

  beforeEach(() => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({ providers: [{ provide: POLL_INTERVAL_MS, useValue: 1000 }] });
    service = TestBed.inject(PollingService);
    calls = 0;
  });

  afterEach(() => {
    subscription?.unsubscribe();
    vi.useRealTimers();
    setDocumentVisibility('visible');
  });

  it('defaults to a 5 s interval', () => {
    TestBed.resetTestingModule();
    expect(TestBed.inject(POLL_INTERVAL_MS)).toBe(5000);
    expect(DEFAULT_POLL_INTERVAL_MS).toBe(5000);
  });

  it('requests at once and then once per interval', () => {
    const values: number[] = [];
    subscription = service.pollWhileVisible(request).subscribe((v) => values.push(v));
    expect(values).toEqual([1]);
    vi.advanceTimersByTime(999);
    expect(values).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(values).toEqual([1, 2]);
    vi.advanceTimersByTime(3000);
    expect(values).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops requesting once unsubscribed', () => {
    subscription = service.pollWhileVisible(request).subscribe();
    subscription.unsubscribe();
    vi.advanceTimersByTime(10_000);
    expect(calls).toBe(1);
  });

  it('pauses while the tab is hidden and resumes with an immediate request', () => {
    subscription = service.pollWhileVisible(request).subscribe();
    expect(calls).toBe(1);
    setDocumentVisibility('hidden');
    vi.advanceTimersByTime(10_000);
    expect(calls).toBe(1);
    setDocumentVisibility('visible');
    expect(calls).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(3);
  });

  it('waits one interval before the first request with startLater, not after a hidden phase', () => {
    subscription = service.pollWhileVisible(request, { startLater: true }).subscribe();
    expect(calls).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(1);
    setDocumentVisibility('hidden');
    setDocumentVisibility('visible');
    expect(calls).toBe(2);
  });

  it('does not start while the tab is hidden', () => {
    setDocumentVisibility('hidden');
    subscription = service.pollWhileVisible(request).subscribe();
    vi.advanceTimersByTime(5000);
    expect(calls).toBe(0);
  });

  it('keeps polling after a failed request when failures are wrapped with toOutcome', () => {
    const outcomes: Outcome<number>[] = [];
    subscription = service
      .pollWhileVisible(() =>
        ++calls === 2 ? toOutcome(throwError(() => new Error('boom'))) : toOutcome(of(calls)),
      )
      .subscribe((o) => outcomes.push(o));
    vi.advanceTimersByTime(2000);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const failed = outcomes[1];
    expect(failed.ok ? null : failed.error.detail).toBe('boom');
  });

  describe('back-off (issue 15)', () => {
    beforeEach(() => {
      TestBed.resetTestingModule();
      TestBed.configureTestingModule({
        providers: [{ provide: POLL_INTERVAL_MS, useValue: 5000 }],
      });
      service = TestBed.inject(PollingService);
    });

    /** The times (ms since subscribing) at which requests were sent during `totalMs`. */
    function requestTimes(
      totalMs: number,
      requestFn: () => Observable<unknown> = request,
    ): number[] {
      const times: number[] = [];
      let now = 0;
      subscription = service
        .pollWhileVisible(
          () => {
            times.push(now);
            return requestFn();
          },
          { backoff: true },
        )
        .subscribe();
      while (now < totalMs) {
        now += 100;
        vi.advanceTimersByTime(100);
      }
      return times;
    }

    it('defaults to 0.5, 1 and 2 s before the steady interval', () => {
      expect(DEFAULT_POLL_BACKOFF_MS).toEqual([500, 1000, 2000]);
    });

    it('polls at 0, 0.5, 1.5 and 3.5 s, then every 5 s', () => {
      expect(requestTimes(19_000)).toEqual([0, 500, 1500, 3500, 8500, 13500, 18500]);
    });

    it('keeps the steady state at one request per interval', () => {
      const times = requestTimes(63_500);
      const steady = times.filter((t) => t >= 3500);
      expect(steady.length).toBe(13);
      steady.slice(1).forEach((t, i) => expect(t - steady[i]).toBe(5000));
    });

    it('does not back off without the option', () => {
      const times: number[] = [];
      let now = 0;
      subscription = service.pollWhileVisible(() => of(times.push(now))).subscribe();
      while (now < 10_000) {
        now += 100;
        vi.advanceTimersByTime(100);
      }
      expect(times).toEqual([0, 5000, 10000]);
    });

    it('slows down by a factor when asked', () => {
      const times: number[] = [];
      let now = 0;
      subscription = service
        .pollWhileVisible(() => of(times.push(now)), { slowdown: 2 })
        .subscribe();
      while (now < 25_000) {
        now += 100;
        vi.advanceTimersByTime(100);
      }
      expect(times).toEqual([0, 10000, 20000]);
    });

    it('honours Retry-After of a failed request', () => {
      const busy = new HttpErrorResponse({
        status: 503,
        error: problem(503),
        headers: new HttpHeaders({ 'Retry-After': '7' }),
      });
      let n = 0;
      // The second request (0.5 s) is throttled: the next one waits 7 s, not 1 s.
      const times = requestTimes(12_000, () =>
        ++n === 2 ? toOutcome(throwError(() => busy)) : toOutcome(of(n)),
      );
      expect(times).toEqual([0, 500, 7500, 9500]);
    });

    it('does not restart the fast start when the tab becomes visible again', () => {
      const times = requestTimes(4000);
      expect(times).toEqual([0, 500, 1500, 3500]);
      setDocumentVisibility('hidden');
      vi.advanceTimersByTime(20_000);
      setDocumentVisibility('visible');
      expect(calls).toBe(5);
      vi.advanceTimersByTime(4999);
      expect(calls).toBe(5);
      vi.advanceTimersByTime(1);
      expect(calls).toBe(6);
    });
  });
});
