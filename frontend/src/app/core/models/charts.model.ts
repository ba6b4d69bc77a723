/** Wait and run percentiles of one job type in one minute. */
export interface TypeMinute {
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  runP50Ms: number | null;
  runP95Ms: number | null;
  count: number;
}

/** One minute of `GET /api/charts`. */
export interface ChartMinute {
  /** ISO 8601, the start of the minute. */
  at: string;
  completed: number;
  failed: number;
  /** Null for a tenant when the API does not share the whole queue. */
  queueDepth: number | null;
  byType: Record<string, TypeMinute>;
}

export interface ChartSeries {
  minutes: ChartMinute[];
}
