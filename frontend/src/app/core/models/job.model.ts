/** Lifecycle states of a job, exactly as the API spells them. */
export type JobStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export const JOB_STATUSES: readonly JobStatus[] = [
  'QUEUED',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** A JSON object (payloads, results, examples). */
export type JsonObject = Record<string, unknown>;

export interface JobHistoryEntry {
  status: JobStatus;
  /** ISO 8601 timestamp. */
  at: string;
  note: string | null;
}

/** A job as listed by `GET /api/jobs` (no payload, result or history). */
export interface JobSummary {
  id: string;
  name: string;
  type: string;
  ownerId: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  maxAttempts: number;
  progress: number;
  error: string | null;
  /** Issue 15: created -> first start, in ms (null before the first start). */
  queueWaitMs?: number | null;
  /** Issue 15: last start -> finish, in ms (null until finished). */
  runMs?: number | null;
  /** Issue 15: the attempt `startedAt` belongs to. */
  startedAttempt?: number | null;
  /** Issue 15: ISO time the next attempt is due while the job waits for a retry. */
  nextAttemptAt?: string | null;
  /** Issue 15: the job this one re-runs. */
  rerunOf?: string | null;
}

/**
 * A job as returned by `GET /api/jobs/{id}`. A payload or result that is not tiny is
 * kept apart from the job: `payload` is then null (`payloadBytes` its size; fetch it
 * with `GET /api/jobs/{id}/payload`), and a large result is in S3: `result` is null
 * and `resultUrl` a presigned download URL.
 */
export interface Job extends JobSummary {
  payload: JsonObject | null;
  payloadBytes?: number | null;
  result: JsonObject | null;
  resultBytes?: number | null;
  resultUrl?: string | null;
  history: JobHistoryEntry[];
  /** Every transition ever made; `history` keeps only the last few. */
  historyCount?: number;
}

/** Body of `POST /api/jobs`. */
export interface CreateJobRequest {
  name: string;
  type: string;
  payload: JsonObject;
  ownerId: string;
}

/** How `name` matches in the list filter. */
export type NameMatch = 'prefix' | 'contains';

/** Sort order of the list, by creation time. */
export type JobOrder = 'newest' | 'oldest';

/** The filter of the job list and of bulk actions (issue 15); null = not filtered. */
export interface JobFilter {
  status: JobStatus | null;
  type: string | null;
  name: string | null;
  nameMatch: NameMatch;
  /** ISO 8601. */
  createdAfter: string | null;
  /** ISO 8601. */
  createdBefore: string | null;
  order: JobOrder;
}

export const EMPTY_JOB_FILTER: JobFilter = {
  status: null,
  type: null,
  name: null,
  nameMatch: 'prefix',
  createdAfter: null,
  createdBefore: null,
  order: 'newest',
};

/** Query of `GET /api/jobs`. Filter fields are optional so older callers keep compiling. */
export interface JobListQuery extends Partial<JobFilter> {
  ownerId: string;
  status: JobStatus | null;
  limit: number;
  cursor: string | null;
}

/** A bulk action by filter (`POST /api/jobs/bulk`). */
export type BulkActionName = 'cancel' | 'retry';

export interface BulkRequest {
  action: BulkActionName;
  filter: Partial<JobFilter> & { ownerId: string };
  dryRun: boolean;
  limit?: number;
  /** Required to execute: the `matched` of the dry run. */
  expectedCount?: number;
}

export interface BulkResult {
  action: BulkActionName;
  dryRun: boolean;
  matched: number;
  acted: number;
  capped: boolean;
  jobIds: string[];
}

/** One page of `GET /api/jobs`. */
export interface JobPage {
  items: JobSummary[];
  nextCursor: string | null;
}
