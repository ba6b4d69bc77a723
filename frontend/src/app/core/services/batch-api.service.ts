import { HttpClient, HttpHeaders, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { Batch, BatchListQuery, BatchPage, CreateBatchRequest } from '../models/batch.model';
import { API_BASE_URL } from './api.config';
import { IDEMPOTENCY_KEY_HEADER } from './job-api.service';

/** Client of the `/api/batches` endpoints (issue 14). Errors arrive as `ApiError`. */
@Injectable({ providedIn: 'root' })
export class BatchApiService {
  private readonly http = inject(HttpClient);
  private readonly baseUrl = `${API_BASE_URL}/batches`;

  /** Submits a batch; with an `idempotencyKey` a retried submit cannot create a second one. */
  createBatch(
    request: CreateBatchRequest,
    idempotencyKey: string | null = null,
  ): Observable<Batch> {
    const headers =
      idempotencyKey === null
        ? undefined
        : new HttpHeaders({ [IDEMPOTENCY_KEY_HEADER]: idempotencyKey });
    return this.http.post<Batch>(this.baseUrl, request, { headers });
  }

  getBatch(id: string): Observable<Batch> {
    return this.http.get<Batch>(this.urlOf(id));
  }

  listBatches(query: BatchListQuery): Observable<BatchPage> {
    let params = new HttpParams().set('ownerId', query.ownerId).set('limit', query.limit);
    if (query.cursor !== null) {
      params = params.set('cursor', query.cursor);
    }
    return this.http.get<BatchPage>(this.baseUrl, { params });
  }

  cancelBatch(id: string): Observable<Batch> {
    return this.http.post<Batch>(`${this.urlOf(id)}/cancel`, null);
  }

  retryFailed(id: string): Observable<Batch> {
    return this.http.post<Batch>(`${this.urlOf(id)}/retry-failed`, null);
  }

  /**
   * The results as JSON Lines text. With the batch's presigned `resultsUrl` it reads the
   * file from S3 (no API key goes there: the signature is the authorisation); otherwise
   * the API streams them, children not finished yet with their current status.
   */
  getResults(id: string, resultsUrl: string | null = null): Observable<string> {
    return this.http.get(resultsUrl ?? `${this.urlOf(id)}/results`, { responseType: 'text' });
  }

  private urlOf(id: string): string {
    return `${this.baseUrl}/${encodeURIComponent(id)}`;
  }
}
