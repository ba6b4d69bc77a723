import { TestBed } from '@angular/core/testing';
import { Observable, of, Subscription, throwError } from 'rxjs';

import { setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { Outcome } from '../models/outcome.model';
import { DEFAULT_POLL_INTERVAL_MS, POLL_INTERVAL_MS, PollingService, toOutcome } from './polling.service';

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
});
