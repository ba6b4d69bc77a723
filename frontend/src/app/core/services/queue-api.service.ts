import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { QueueStats } from '../models/queue.model';
import { API_BASE_URL } from './api.config';

/** Client of `GET /api/queues`. */
@Injectable({ providedIn: 'root' })
export class QueueApiService {
  private readonly http = inject(HttpClient);

  getQueueStats(): Observable<QueueStats> {
    return this.http.get<QueueStats>(`${API_BASE_URL}/queues`);
  }
}
