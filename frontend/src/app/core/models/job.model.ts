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

/** Query of `GET /api/jobs`. */
export interface JobListQuery {
  ownerId: string;
  status: JobStatus | null;
  limit: number;
  cursor: string | null;
}

/** One page of `GET /api/jobs`. */
export interface JobPage {
  items: JobSummary[];
  nextCursor: string | null;
}
