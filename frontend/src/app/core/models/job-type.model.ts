import { JsonObject } from './job.model';

/** An entry of `GET /api/job-types`. */
export interface JobType {
  type: string;
  description: string;
  example: JsonObject;
  maxAttempts: number;
}

/** The job type that gets dedicated inputs in the submit form. */
export const SIMULATE_JOB_TYPE = 'simulate';

/** The knobs of the `simulate` payload. */
export interface SimulatePayload {
  durationSeconds: number;
  failureProbability: number;
  steps: number;
}

/** Client-side limits mirroring the API's validation rules. */
export const JOB_LIMITS = {
  nameMaxLength: 100,
  ownerIdMaxLength: 64,
  ownerIdPattern: /^[A-Za-z0-9._@-]+$/,
  maxBodyBytes: 64 * 1024,
  durationSeconds: { min: 0, max: 900 },
  failureProbability: { min: 0, max: 1 },
  steps: { min: 1, max: 100 },
} as const;
