import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { ChartSeries } from '../models/charts.model';
import { API_BASE_URL } from './api.config';

/** Client of `GET /api/charts`: per-minute figures of the last `minutes`. */
@Injectable({ providedIn: 'root' })
export class ChartsApiService {
  private readonly http = inject(HttpClient);

  getSeries(minutes = 60): Observable<ChartSeries> {
    return this.http.get<ChartSeries>(`${API_BASE_URL}/charts`, {
      params: new HttpParams().set('minutes', minutes),
    });
  }
}
