import { formatAbsolute, formatDuration, formatRelative } from './relative-time';

describe('relative times (issue 15)', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it.each([
    [now - 2_000, 'just now'],
    [now - 42_000, '42 s ago'],
    [now - 125_000, '2 min ago'],
    [now - 3 * 3_600_000, '3 h ago'],
    [now - 2 * 86_400_000, '2 d ago'],
    [now + 30_000, 'in 30 s'],
    [now + 5 * 60_000, 'in 5 min'],
  ])('formats %s as "%s"', (at, expected) => {
    expect(formatRelative(at, now)).toBe(expected);
  });

  it('names the time zone in the absolute time', () => {
    expect(formatAbsolute(now, 'UTC')).toBe('1 Jan 2026, 12:00:00 UTC');
    expect(formatAbsolute(now, 'Europe/Paris')).toMatch(/13:00:00 (CET|GMT\+1)$/);
  });

  it.each([
    [60, '60 ms'],
    [1234, '1.2 s'],
    [42_000, '42 s'],
    [184_000, '3 min 4 s'],
    [2 * 3_600_000 + 60_000, '2 h 1 min'],
    [null, null],
    [-1, null],
  ])('formats a duration of %s ms as %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});
