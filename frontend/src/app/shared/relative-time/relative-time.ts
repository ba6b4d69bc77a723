/** "2 min ago" / "in 12 s": short relative times, in the past or the future. */
export function formatRelative(atMs: number, nowMs: number): string {
  const diff = atMs - nowMs;
  const seconds = Math.round(Math.abs(diff) / 1000);
  if (seconds < 5) {
    return 'just now';
  }
  const [value, unit] =
    seconds < 60
      ? [seconds, 's']
      : seconds < 3600
        ? [Math.floor(seconds / 60), 'min']
        : seconds < 86_400
          ? [Math.floor(seconds / 3600), 'h']
          : [Math.floor(seconds / 86_400), 'd'];
  return diff < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** The absolute time with its time zone, e.g. "Nov 29, 2026, 18:42:02 UTC". */
export function formatAbsolute(atMs: number, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
    timeZone,
  }).format(atMs);
}

/** A duration in ms as "60 ms", "1.2 s", "3 min 4 s". */
export function formatDuration(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) {
    return null;
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes} min ${Math.round(seconds % 60)} s`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
