import { of, Subject } from 'rxjs';

import { Outcome } from '../models/outcome.model';
import { ApiError } from '../models/problem.model';
import { Followed, followErrorMessage, untilEnded } from './follow';

const error = (status: number): ApiError => ({
  kind: 'api-error',
  status,
  type: 'about:blank',
  title: 'Server Error',
  detail: 'boom',
  errors: [],
  retryAfterSeconds: null,
});

describe('follow', () => {
  const ok = (n: number): Outcome<number> => ({ ok: true, value: n });
  const failed = (status: number): Outcome<number> => ({ ok: false, error: error(status) });

  it('untilEnded delivers the answer that ended, then stops', () => {
    const seen: Outcome<number>[] = [];
    of(ok(1), failed(500), ok(2), ok(3), ok(4))
      .pipe(untilEnded<number>({ isEnded: (n) => n >= 3 }))
      .subscribe((o) => seen.push(o));
    expect(seen).toEqual([ok(1), failed(500), ok(2), ok(3)]);
  });

  it('untilEnded stops when keepWhile says so, or at once on stop$', () => {
    const seen: Outcome<number>[] = [];
    of(ok(1), failed(404), ok(2))
      .pipe(untilEnded<number>({ isEnded: () => false, keepWhile: (o) => o.ok }))
      .subscribe((o) => seen.push(o));
    expect(seen).toEqual([ok(1), failed(404)]);

    const source = new Subject<Outcome<number>>();
    const stop$ = new Subject<void>();
    const later: Outcome<number>[] = [];
    source
      .pipe(untilEnded<number>({ isEnded: () => false, stop$ }))
      .subscribe((o) => later.push(o));
    source.next(ok(1));
    stop$.next();
    source.next(ok(2));
    expect(later).toEqual([ok(1)]);
  });

  it('followErrorMessage says not found, unreachable or the problem, retrying until ended', () => {
    const base = { noun: 'Batch', id: 'b1', ended: false, intervalSeconds: 5 };
    expect(followErrorMessage({ ...base, error: null })).toBeNull();
    expect(followErrorMessage({ ...base, error: error(404) })).toBe(
      'Batch “b1” was not found. Retrying every 5 s…',
    );
    expect(followErrorMessage({ ...base, error: error(0) })).toBe(
      'Cannot reach the server. Retrying every 5 s…',
    );
    expect(followErrorMessage({ ...base, ended: true, error: error(500) })).toMatch(/: boom\.$/);
  });

  it('Followed keeps the value under a failed read and signals the end', () => {
    const followed = new Followed<number>((n) => n >= 2);
    let ends = 0;
    followed.ended$.subscribe(() => ends++);
    followed.apply(ok(1));
    followed.apply(failed(503));
    expect(followed.value()).toBe(1);
    expect(followed.loadError()?.status).toBe(503);
    expect(followed.ended()).toBe(false);
    followed.apply(ok(2));
    expect(followed.loadError()).toBeNull();
    expect(followed.ended()).toBe(true);
    expect(ends).toBe(1);
    followed.reset();
    expect([followed.value(), followed.lastUpdated()]).toEqual([null, null]);
  });
});
