import { JobStatus } from './job.model';

export type QueueRole = 'jobs' | 'dlq';

export interface QueueInfo {
  name: string;
  role: QueueRole;
  messagesVisible: number;
  messagesInFlight: number;
  messagesDelayed: number;
}

/**
 * What `GET /api/queues` covers: `all` jobs and both queues (operators, open mode), or the
 * caller's `owner` jobs only (a tenant's API key: no queues, no Flower link).
 */
export type QueueScope = 'all' | 'owner';

/** Response of `GET /api/queues`. */
export interface QueueStats {
  scope: QueueScope;
  ownerId: string | null;
  queues: QueueInfo[];
  jobsByStatus: Record<JobStatus, number>;
  completedPerSecond: number;
  jobsCounted: number;
  truncated: boolean;
  flowerUrl: string | null;
}
