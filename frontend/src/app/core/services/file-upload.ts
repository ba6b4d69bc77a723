import { computed, inject, signal } from '@angular/core';
import { filter, map, Observable, of, tap } from 'rxjs';

import { UploadProgress } from '../models/upload.model';
import { UploadApiService } from './upload-api.service';

/**
 * The file a form uploads straight to S3 before it submits (a job's CSV, a batch's items),
 * and how far that upload is. Create one per form in a field initializer (it uses `inject`).
 * A file already uploaded is not sent again: a retry after a failed submit reuses its key.
 */
export class FileUpload {
  private readonly uploadApi = inject(UploadApiService);
  /** The file already in S3, for the owner it was uploaded as. */
  private uploaded: { file: File; ownerId: string; key: string } | null = null;

  /** The chosen file (uploaded on submit), or null. */
  readonly file = signal<File | null>(null);
  /** The upload's progress since the last submit, or null before one. */
  readonly progress = signal<UploadProgress | null>(null);
  readonly percent = computed(() => {
    const progress = this.progress();
    return progress === null || progress.total === 0 ? 0 : (100 * progress.loaded) / progress.total;
  });
  /** True while bytes are going up (the submit button says "Uploading…"). */
  readonly inProgress = computed(() => {
    const progress = this.progress();
    return progress !== null && progress.key === null;
  });

  /** A file chosen (or cleared, with null): forgets the previous one and its upload. */
  choose(file: File | null): void {
    this.file.set(file);
    this.progress.set(null);
    this.uploaded = null;
  }

  /** The file's key in S3, uploading it (progress reported) unless it is already there. */
  keyFor(file: File, ownerId: string, contentType: string | null = null): Observable<string> {
    const done = this.uploaded;
    if (done !== null && done.file === file && done.ownerId === ownerId) {
      return of(done.key);
    }
    return this.uploadApi.upload(file, ownerId, contentType).pipe(
      tap((progress) => this.progress.set(progress)),
      filter((progress) => progress.key !== null),
      map((progress) => progress.key!),
      tap((key) => (this.uploaded = { file, ownerId, key })),
    );
  }

  /** After a failed submit: a failed upload's bar goes; a finished one stays (it is reused). */
  submitFailed(): void {
    if (this.uploaded === null) {
      this.progress.set(null);
    }
  }
}
