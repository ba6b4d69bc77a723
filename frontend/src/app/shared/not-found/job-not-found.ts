import { Outcome } from '../../core/models/outcome.model';
import { ApiError } from '../../core/models/problem.model';

/** Why a job cannot be shown for good: the API knows no such job, or the id is malformed. */
export type JobNotFoundReason = 'unknown' | 'malformed';

export function jobNotFoundReason(error: ApiError | null): JobNotFoundReason | null {
  if (error?.status === 404) {
    return 'unknown';
  }
  return error?.status === 422 ? 'malformed' : null;
}

/** The message a job status page shows instead of the job. */
export function jobNotFoundMessage(id: string, reason: JobNotFoundReason): string {
  return reason === 'malformed'
    ? `“${id}” is not a job id: a job id is a UUID, like 0b6f4a8e-6a44-4d7b-9a3e-2f0f5a1b2c3d.`
    : `There is no job “${id}”, or it belongs to someone else. Old jobs are removed after a while.`;
}

/**
 * A predicate for `takeWhile` on a job's polls: false once polling can stop because the job
 * will never be found. A malformed id (422) stops at once. An unknown id (404) is asked once
 * more first: the API reads the job eventually consistently, so a job created a moment ago
 * may be missing from the first read; two 404s in a row mean it does not exist.
 */
export function keepPollingUnlessGone<T>(): (outcome: Outcome<T>) => boolean {
  let notFoundInARow = 0;
  return (outcome) => {
    const reason = outcome.ok ? null : jobNotFoundReason(outcome.error);
    notFoundInARow = reason === 'unknown' ? notFoundInARow + 1 : 0;
    return reason !== 'malformed' && notFoundInARow < 2;
  };
}
