import { ChartMinute } from '../../core/models/charts.model';

/** The per-minute series of the charts page, ready for Chart.js. */
export interface ChartView {
  labels: string[];
  completed: number[];
  failed: number[];
  queueDepth: (number | null)[];
  types: string[];
  totals: { completed: number; failed: number };
}

export interface TypeSeries {
  waitP50: (number | null)[];
  waitP95: (number | null)[];
  runP50: (number | null)[];
  runP95: (number | null)[];
  count: number;
}

/** "14:05", in the browser's zone. */
export function minuteLabel(iso: string): string {
  const date = new Date(iso);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

export function toChartView(minutes: readonly ChartMinute[]): ChartView {
  const sorted = [...minutes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const types = new Set<string>();
  sorted.forEach((m) => Object.keys(m.byType ?? {}).forEach((t) => types.add(t)));
  return {
    labels: sorted.map((m) => minuteLabel(m.at)),
    completed: sorted.map((m) => m.completed),
    failed: sorted.map((m) => m.failed),
    queueDepth: sorted.map((m) => m.queueDepth),
    types: [...types].sort(),
    totals: {
      completed: sorted.reduce((sum, m) => sum + m.completed, 0),
      failed: sorted.reduce((sum, m) => sum + m.failed, 0),
    },
  };
}

/** Wait and run p50/p95 of one type per minute; null where the type ran no job. */
export function typeSeries(minutes: readonly ChartMinute[], type: string): TypeSeries {
  const sorted = [...minutes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const pick = (key: 'waitP50Ms' | 'waitP95Ms' | 'runP50Ms' | 'runP95Ms'): (number | null)[] =>
    sorted.map((m) => m.byType?.[type]?.[key] ?? null);
  return {
    waitP50: pick('waitP50Ms'),
    waitP95: pick('waitP95Ms'),
    runP50: pick('runP50Ms'),
    runP95: pick('runP95Ms'),
    count: sorted.reduce((sum, m) => sum + (m.byType?.[type]?.count ?? 0), 0),
  };
}
