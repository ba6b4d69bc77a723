import { CostReport } from '../app/core/models/cost.model';
import { Job, JobStatus, JobSummary } from '../app/core/models/job.model';
import { JobType } from '../app/core/models/job-type.model';
import { QueueStats } from '../app/core/models/queue.model';
import { ProblemDetails } from '../app/core/models/problem.model';

/** Test fixtures only: the app loads job types from the API. */
export const JOB_TYPES: JobType[] = [
  {
    type: 'text-stats',
    description: 'Counts words, lines and characters.',
    example: { text: 'hello world' },
    maxAttempts: 3,
  },
  {
    type: 'sha256',
    description: 'SHA-256 of a text.',
    example: { text: 'abc' },
    maxAttempts: 3,
  },
  {
    type: 'csv-summary',
    description: 'Summarises a CSV document.',
    example: { csv: 'a,b\n1,2\n' },
    maxAttempts: 3,
  },
  {
    type: 'simulate',
    description: 'Sleeps, reports progress and fails at random.',
    example: { durationSeconds: 10, failureProbability: 0.2, steps: 5 },
    maxAttempts: 3,
  },
];

export const JOB_ID = '0b6f4a8e-6a44-4d7b-9a3e-2f0f5a1b2c3d';

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: JOB_ID,
    name: 'Word count',
    type: 'text-stats',
    ownerId: 'alice',
    status: 'QUEUED',
    payload: { text: 'hello world' },
    createdAt: '2026-01-01T10:00:00Z',
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    maxAttempts: 3,
    progress: 0,
    result: null,
    error: null,
    history: [{ status: 'QUEUED', at: '2026-01-01T10:00:00Z', note: null }],
    ...overrides,
  };
}

export function makeSummary(id: string, status: JobStatus = 'QUEUED'): JobSummary {
  return {
    id,
    name: `Job ${id}`,
    type: 'text-stats',
    ownerId: 'alice',
    status,
    createdAt: '2026-01-01T10:00:00Z',
    startedAt: null,
    finishedAt: null,
    attempts: 1,
    maxAttempts: 3,
    progress: status === 'PROCESSING' ? 40 : 0,
    error: null,
  };
}

export function makeQueueStats(overrides: Partial<QueueStats> = {}): QueueStats {
  return {
    scope: 'all',
    ownerId: null,
    jobsCounted: 20,
    truncated: false,
    queues: [
      { name: 'batchlab-jobs', role: 'jobs', messagesVisible: 4, messagesInFlight: 2, messagesDelayed: 1 },
      { name: 'batchlab-dlq', role: 'dlq', messagesVisible: 7, messagesInFlight: 0, messagesDelayed: 0 },
    ],
    jobsByStatus: { QUEUED: 4, PROCESSING: 2, COMPLETED: 10, FAILED: 1, CANCELLED: 3 },
    completedPerSecond: 0.25,
    flowerUrl: 'http://localhost:5555',
    ...overrides,
  };
}

export function makeCostReport(overrides: Partial<CostReport> = {}): CostReport {
  const units = {
    writeReported: 3000,
    writeComputed: 4800,
    writeBilled: 4800,
    readReported: 240,
    readComputed: 240,
    readBilled: 240,
  };
  return {
    windowSeconds: 3600,
    coveredSeconds: 1800,
    processes: 4,
    roles: { api: 1, flower: 1, worker: 1, 'worker-main': 1 },
    jobsCreated: 1200,
    jobsFinished: 1198,
    requests: { 'dynamodb.PutItem': 1200, 'sqs.ReceiveMessage': 300, 'sqs.SendMessage': 1200 },
    perJob: {
      sqsRequests: 2.3,
      snsRequests: 1.3,
      s3WriteRequests: 0,
      s3ReadRequests: 0,
      dynamodbRequests: 3.1,
      dynamodbWriteRequests: 3.0,
      dynamodbWriteUnits: 4.0,
      dynamodbReadUnits: 0.2,
    },
    dollarsPerMillionJobs: { sqs: 0.92, sns: 0.65, s3: 0, dynamodbWrites: 2.5, dynamodbReads: 0.03, total: 4.1 },
    fixedPerHour: {
      sqsRequests: 720,
      snsRequests: 1800,
      s3WriteRequests: 0,
      s3ReadRequests: 0,
      dynamodbRequests: 1440,
      dynamodbWriteRequests: 1440,
      dynamodbWriteUnits: 1440,
      dynamodbReadUnits: 0,
      meterWrites: 1440,
    },
    fixedDollarsPerHour: {
      sqs: 0.000288,
      sns: 0.0009,
      s3: 0,
      dynamodbWrites: 0.0009,
      dynamodbReads: 0,
      total: 0.002088,
    },
    fixedRequests: { 'dynamodb.PutItem:meter': 720, 'sqs.ReceiveMessage': 300 },
    capacityUnits: { priced: 'auto', job: { ...units }, fixed: { ...units } },
    monthlyAtDesignRate: { sqs: 238.46, sns: 168.48, s3: 0, dynamodbWrites: 648.0, dynamodbReads: 7.78, total: 1062.72 },
    designModel: {
      name: "the design document's cost model (§11)",
      jobsPerSecond: 100,
      monthly: { sqs: 103.0, sqsBatched: 10.0, dynamodbWrites: 246.38, dynamodbReads: 4.93 },
      dollarsPerMillionJobs: { sqs: 0.3974, sqsBatched: 0.0386, dynamodbWrites: 0.9505, dynamodbReads: 0.019 },
      assumes: '1 SQS request per job (the send) and ~1.5 DynamoDB write units per job',
    },
    prices: {
      sqsPerMillionRequests: 0.4,
      snsPerMillionPublishes: 0.5,
      s3PerMillionWrites: 5,
      s3PerMillionReads: 0.4,
      dynamodbPerMillionWriteUnits: 0.625,
      dynamodbPerMillionReadUnits: 0.125,
    },
    ...overrides,
  };
}

/** A cost report before any job was counted: every per-job figure is null. */
export function makeEmptyCostReport(): CostReport {
  const none = { sqs: null, sns: null, s3: null, dynamodbWrites: null, dynamodbReads: null, total: null };
  return makeCostReport({
    processes: 1,
    jobsCreated: 0,
    jobsFinished: 0,
    requests: {},
    perJob: {
      sqsRequests: null,
      snsRequests: null,
      s3WriteRequests: null,
      s3ReadRequests: null,
      dynamodbRequests: null,
      dynamodbWriteRequests: null,
      dynamodbWriteUnits: null,
      dynamodbReadUnits: null,
    },
    dollarsPerMillionJobs: { ...none },
    monthlyAtDesignRate: { ...none },
  });
}

export function problem(status: number, overrides: Partial<ProblemDetails> = {}): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Problem',
    status,
    detail: 'Something is wrong',
    ...overrides,
  };
}

/** Fakes only the interval timers used by RxJS, leaving Angular's scheduling on real timers. */
export function useFakeIntervals(): void {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
}

let visibility: DocumentVisibilityState = 'visible';

/** Makes `document.visibilityState` return `state` and fires `visibilitychange`. */
export function setDocumentVisibility(state: DocumentVisibilityState): void {
  visibility = state;
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => visibility,
  });
  document.dispatchEvent(new Event('visibilitychange'));
}
