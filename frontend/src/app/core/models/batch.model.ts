import { JobStatus, JsonObject } from './job.model';
import { ProblemFieldError } from './problem.model';

/** Lifecycle states of a batch, exactly as the API spells them (batch contract, issue 14). */
export type BatchStatus = 'RUNNING' | 'COMPLETED' | 'COMPLETED_WITH_FAILURES' | 'CANCELLED';

export const BATCH_STATUSES: readonly BatchStatus[] = [
  'RUNNING',
  'COMPLETED',
  'COMPLETED_WITH_FAILURES',
  'CANCELLED',
];

/** A batch has ended once it is no longer RUNNING (a retry of its failures makes it RUNNING again). */
export function isBatchEnded(status: BatchStatus): boolean {
  return status !== 'RUNNING';
}

/** How an uploaded file is read: one JSON object per line, or CSV rows under a header row. */
export type BatchFormat = 'jsonl' | 'csv';

/** Children per job status; the five counts add up to `ingested`. */
export type BatchCounts = Record<JobStatus, number>;

/** An item refused by the type's schema: its line in the input and its 0-based index. */
export interface InvalidItem {
  line: number;
  index: number;
  errors: ProblemFieldError[];
}

export interface BatchInvalid {
  count: number;
  /** The first 100 invalid items (absent from list summaries). */
  items?: InvalidItem[];
}

/** A FAILED child, as the batch lists up to 20 of them. */
export interface BatchFailure {
  index: number;
  jobId: string;
  error: string | null;
}

/** A batch as listed by `GET /api/batches` (no invalid items, failures or results URL). */
export interface BatchSummary {
  id: string;
  name: string;
  type: string;
  ownerId: string;
  status: BatchStatus;
  /** Null while an uploaded file is still being read. */
  total: number | null;
  ingested: number;
  counts: BatchCounts;
  /** 0..100: finished children over total. */
  progress: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Children finished per second so far. */
  throughput: number | null;
  etaSeconds: number | null;
  invalid: BatchInvalid;
  webhookUrl: string | null;
}

/** A batch as returned by `GET /api/batches/{id}` and its actions. */
export interface Batch extends BatchSummary {
  failures: BatchFailure[];
  /** Presigned S3 URL of the results file, once the batch ended. */
  resultsUrl: string | null;
}

interface BatchRequestBase {
  name: string;
  type: string;
  ownerId: string;
  allOrNothing: boolean;
  webhookUrl: string | null;
}

/** Body of `POST /api/batches`: inline items, or the key of an uploaded JSONL/CSV file. */
export type CreateBatchRequest =
  | (BatchRequestBase & { items: JsonObject[] })
  | (BatchRequestBase & { object: string; format: BatchFormat });

/** Query of `GET /api/batches`. */
export interface BatchListQuery {
  ownerId: string;
  limit: number;
  cursor: string | null;
}

/** One page of `GET /api/batches`, newest first. */
export interface BatchPage {
  items: BatchSummary[];
  nextCursor: string | null;
}

/** Client-side limits mirroring the batch contract. */
export const BATCH_LIMITS = {
  /** Shorter than a job's name: the children are named after the batch. */
  nameMaxLength: 90,
  maxInlineItems: 1000,
  /** The API refuses a larger `POST /api/batches` body (413): upload a file instead. */
  maxBodyBytes: 1024 * 1024,
  /** Failed children the batch itself lists (more are in the results file). */
  listedFailures: 20,
  /** Invalid items the batch itself lists. */
  listedInvalid: 100,
} as const;
