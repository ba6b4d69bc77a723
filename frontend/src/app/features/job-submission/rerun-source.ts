import { map, Observable, of, switchMap } from 'rxjs';

import { JsonObject } from '../../core/models/job.model';
import { JobApiService } from '../../core/services/job-api.service';

/** What "Re-run" (`/new?from=<id>`, issue 15) puts in the New job form. */
export interface RerunSource {
  id: string;
  name: string;
  type: string;
  payload: JsonObject;
}

/** The job's name, type and payload; a payload kept apart from the job is fetched too. */
export function loadRerunSource(jobApi: JobApiService, id: string): Observable<RerunSource> {
  return jobApi
    .getJob(id)
    .pipe(
      switchMap((job) =>
        (job.payload !== null ? of(job.payload) : jobApi.getPayload(id)).pipe(
          map((payload) => ({ id: job.id, name: job.name, type: job.type, payload })),
        ),
      ),
    );
}
