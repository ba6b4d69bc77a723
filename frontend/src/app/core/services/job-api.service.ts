import { HttpClient, HttpHeaders, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { CreateJobRequest, Job, JobListQuery, JobPage, JsonObject } from '../models/job.model';
import { API_BASE_URL } from './api.config';

/** Header that makes `POST /api/jobs` safe to retry. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Client of the `/api/jobs` endpoints. Errors arrive as `ApiError` (see the problem interceptor). */
@Injectable({ providedIn: 'root' })
export class JobApiService {
  private readonly http = inject(HttpClient);
  private readonly baseUrl = `${API_BASE_URL}/jobs`;

  /**
   * Submits a job. With an `idempotencyKey` the request carries `Idempotency-Key`, so a
   * retry with the same key and body returns the job created the first time instead of a
   * duplicate.
   */
  createJob(request: CreateJobRequest, idempotencyKey: string | null = null): Observable<Job> {
    const headers =
      idempotencyKey === null ? undefined : new HttpHeaders({ [IDEMPOTENCY_KEY_HEADER]: idempotencyKey });
    return this.http.post<Job>(this.baseUrl, request, { headers });
  }

  getJob(id: string): Observable<Job> {
    return this.http.get<Job>(`${this.baseUrl}/${encodeURIComponent(id)}`);
  }

  listJobs(query: JobListQuery): Observable<JobPage> {
    let params = new HttpParams().set('ownerId', query.ownerId).set('limit', query.limit);
    if (query.status !== null) {
      params = params.set('status', query.status);
    }
    if (query.cursor !== null) {
      params = params.set('cursor', query.cursor);
    }
    return this.http.get<JobPage>(this.baseUrl, { params });
  }

  /** The payload of a job that keeps it apart (`payload` null in the job). */
  getPayload(id: string): Observable<JsonObject> {
    return this.http.get<JsonObject>(`${this.baseUrl}/${encodeURIComponent(id)}/payload`);
  }

  cancelJob(id: string): Observable<Job> {
    return this.http.post<Job>(`${this.baseUrl}/${encodeURIComponent(id)}/cancel`, null);
  }
}
