import { JobStatus } from './job.model';

export type QueueRole = 'jobs' | 'dlq';

export interface QueueInfo {
  name: string;
  role: QueueRole;
  messagesVisible: number;
  messagesInFlight: number;
  messagesDelayed: number;
}

/** Response of `GET /api/queues`. */
export interface QueueStats {
  queues: QueueInfo[];
  jobsByStatus: Record<JobStatus, number>;
  completedPerSecond: number;
  flowerUrl: string;
}
