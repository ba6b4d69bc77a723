import { DOCUMENT, inject, Injectable } from '@angular/core';
import { distinctUntilChanged, fromEvent, map, Observable, shareReplay, startWith } from 'rxjs';

/** Tells whether the browser tab is visible, so polling can pause while it is hidden. */
@Injectable({ providedIn: 'root' })
export class PageVisibilityService {
  private readonly document = inject(DOCUMENT);

  /** Emits the current visibility at once, then on every `visibilitychange`. */
  readonly visible$: Observable<boolean> = fromEvent(this.document, 'visibilitychange').pipe(
    startWith(null),
    map(() => this.isVisible()),
    distinctUntilChanged(),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  isVisible(): boolean {
    return this.document.visibilityState !== 'hidden';
  }
}
