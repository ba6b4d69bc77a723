import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { DeadLetterList, Redrive } from '../models/dlq.model';
import { API_BASE_URL } from './api.config';

/** Client of the dead-letter endpoints (operator role; a tenant key gets 403). */
@Injectable({ providedIn: 'root' })
export class DlqApiService {
  private readonly http = inject(HttpClient);
  private readonly baseUrl = `${API_BASE_URL}/dlq`;

  list(limit = 50): Observable<DeadLetterList> {
    return this.http.get<DeadLetterList>(this.baseUrl, {
      params: new HttpParams().set('limit', limit),
    });
  }

  redriveOne(jobId: string): Observable<Redrive> {
    return this.http.post<Redrive>(`${this.baseUrl}/${encodeURIComponent(jobId)}/redrive`, null);
  }

  redriveAll(): Observable<Redrive> {
    return this.http.post<Redrive>(`${this.baseUrl}/redrive`, null);
  }
}
