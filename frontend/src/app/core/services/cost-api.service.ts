import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { CostReport } from '../models/cost.model';
import { API_BASE_URL } from './api.config';

/** Client of `GET /api/cost`. */
@Injectable({ providedIn: 'root' })
export class CostApiService {
  private readonly http = inject(HttpClient);

  getCostReport(): Observable<CostReport> {
    return this.http.get<CostReport>(`${API_BASE_URL}/cost`);
  }
}
