import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';

import { JobType } from '../models/job-type.model';
import { API_BASE_URL } from './api.config';

/** Client of `GET /api/job-types`. */
@Injectable({ providedIn: 'root' })
export class JobTypeService {
  private readonly http = inject(HttpClient);

  getJobTypes(): Observable<JobType[]> {
    return this.http.get<JobType[]>(`${API_BASE_URL}/job-types`);
  }
}
