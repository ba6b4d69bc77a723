import { HttpClient, HttpEvent, HttpEventType, HttpHeaders } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { concat, defer, filter, from, map, mergeMap, Observable, switchMap } from 'rxjs';

import { UploadPart, UploadPlan, UploadProgress, UploadRequest } from '../models/upload.model';
import { API_BASE_URL } from './api.config';

/** Parts sent at once in a multipart upload: enough to fill a link, few enough to retry. */
export const PARTS_IN_FLIGHT = 3;

/** What a browser may report for a CSV file; anything else is sent as text/csv. */
const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];

/**
 * Uploads a file straight to S3 through the presigned URL(s) `POST /api/uploads` hands out,
 * reporting progress; the last emission carries the object's key, for a job's payload.
 */
@Injectable({ providedIn: 'root' })
export class UploadApiService {
  private readonly http = inject(HttpClient);

  /** `contentType` overrides the browser's guess (a batch's JSON Lines file: it has none). */
  upload(
    file: File,
    ownerId: string,
    contentType: string | null = null,
  ): Observable<UploadProgress> {
    const request: UploadRequest = {
      filename: file.name,
      contentType: contentType ?? (CSV_TYPES.includes(file.type) ? file.type : 'text/csv'),
      size: file.size,
      ownerId,
    };
    return this.http
      .post<UploadPlan>(`${API_BASE_URL}/uploads`, request)
      .pipe(
        switchMap((plan) =>
          plan.kind === 'single' ? this.putWhole(file, plan) : this.putParts(file, plan),
        ),
      );
  }

  private putWhole(file: File, plan: UploadPlan): Observable<UploadProgress> {
    return this.http
      .put(plan.url!, file, {
        headers: new HttpHeaders(plan.headers),
        reportProgress: true,
        observe: 'events',
        responseType: 'text',
      })
      .pipe(
        map((event) => progressOf(event, file.size, plan.key)),
        filter((progress): progress is UploadProgress => progress !== null),
      );
  }

  private putParts(file: File, plan: UploadPlan): Observable<UploadProgress> {
    const loaded = new Map<number, number>();
    const total = file.size;
    const sent = (): number => [...loaded.values()].reduce((a, b) => a + b, 0);
    const parts$ = from(plan.parts).pipe(
      mergeMap((part) => this.putPart(file, plan, part, loaded), PARTS_IN_FLIGHT),
    );
    return defer(() => {
      const etags: { partNumber: number; etag: string }[] = [];
      const progress$ = parts$.pipe(
        map((step): UploadProgress => {
          if (step.etag !== null) {
            etags.push({ partNumber: step.partNumber, etag: step.etag });
          }
          return { loaded: sent(), total, key: null };
        }),
      );
      const complete$ = defer(() =>
        this.http.post(plan.completeUrl!, {
          key: plan.key,
          parts: etags.sort((a, b) => a.partNumber - b.partNumber),
        }),
      ).pipe(map((): UploadProgress => ({ loaded: total, total, key: plan.key })));
      return concat(progress$, complete$);
    });
  }

  private putPart(
    file: File,
    plan: UploadPlan,
    part: UploadPart,
    loaded: Map<number, number>,
  ): Observable<{ partNumber: number; etag: string | null }> {
    const start = (part.partNumber - 1) * plan.partSize!;
    const body = file.slice(start, start + part.size);
    return this.http
      .put(part.url, body, { reportProgress: true, observe: 'events', responseType: 'text' })
      .pipe(
        map((event) => {
          if (event.type === HttpEventType.UploadProgress) {
            loaded.set(part.partNumber, event.loaded);
          } else if (event.type === HttpEventType.Response) {
            loaded.set(part.partNumber, part.size);
            // S3 answers each part with its ETag (the bucket's CORS exposes it).
            const etag = event.headers.get('ETag');
            if (etag === null) {
              throw new Error(
                `part ${part.partNumber}: no ETag in the answer (check the bucket's CORS)`,
              );
            }
            return { partNumber: part.partNumber, etag };
          }
          return { partNumber: part.partNumber, etag: null };
        }),
      );
  }
}

function progressOf(event: HttpEvent<string>, total: number, key: string): UploadProgress | null {
  if (event.type === HttpEventType.UploadProgress) {
    return { loaded: event.loaded, total: event.total ?? total, key: null };
  }
  if (event.type === HttpEventType.Response) {
    return { loaded: total, total, key };
  }
  return null;
}
