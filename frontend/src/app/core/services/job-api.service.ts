import { HttpClient, HttpHeaders, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import {
  BulkRequest,
  BulkResult,
  CreateJobRequest,
  Job,
  JobFilter,
  JobListQuery,
  JobPage,
  JsonObject,
} from '../models/job.model';
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
      idempotencyKey === null
        ? undefined
        : new HttpHeaders({ [IDEMPOTENCY_KEY_HEADER]: idempotencyKey });
    return this.http.post<Job>(this.baseUrl, request, { headers });
  }

  getJob(id: string): Observable<Job> {
    return this.http.get<Job>(`${this.baseUrl}/${encodeURIComponent(id)}`);
  }

  listJobs(query: JobListQuery): Observable<JobPage> {
    let params = filterParams(
      new HttpParams().set('ownerId', query.ownerId).set('limit', query.limit),
      query,
    );
    if (query.cursor !== null) {
      params = params.set('cursor', query.cursor);
    }
    return this.http.get<JobPage>(this.baseUrl, { params });
  }

  /** A new attempt of a FAILED or CANCELLED job, same JobId (409 for any other status). */
  retryJob(id: string): Observable<Job> {
    return this.http.post<Job>(`${this.baseUrl}/${encodeURIComponent(id)}/retry`, null);
  }

  /** A NEW job with the same name, type, payload and owner. */
  rerunJob(id: string): Observable<Job> {
    return this.http.post<Job>(`${this.baseUrl}/${encodeURIComponent(id)}/rerun`, null);
  }

  /** Cancel or retry every job matching a filter: a dry run first, then with its count. */
  bulk(request: BulkRequest): Observable<BulkResult> {
    return this.http.post<BulkResult>(`${this.baseUrl}/bulk`, request);
  }

  /** The payload of a job that keeps it apart (`payload` null in the job). */
  getPayload(id: string): Observable<JsonObject> {
    return this.http.get<JsonObject>(`${this.baseUrl}/${encodeURIComponent(id)}/payload`);
  }

  cancelJob(id: string): Observable<Job> {
    return this.http.post<Job>(`${this.baseUrl}/${encodeURIComponent(id)}/cancel`, null);
  }
}

/** Adds the set fields of a list filter; defaults (prefix, newest) are left out of the URL. */
function filterParams(params: HttpParams, filter: Partial<JobFilter>): HttpParams {
  const set: [string, string | null | undefined][] = [
    ['status', filter.status],
    ['type', filter.type],
    ['name', filter.name],
    ['nameMatch', filter.name && filter.nameMatch === 'contains' ? 'contains' : null],
    ['createdAfter', filter.createdAfter],
    ['createdBefore', filter.createdBefore],
    ['order', filter.order === 'oldest' ? 'oldest' : null],
  ];
  return set.reduce((acc, [key, value]) => (value ? acc.set(key, value) : acc), params);
}
