import { Injectable, Signal, signal } from '@angular/core';

/** How often relative times ("2 min ago") are brought up to date. */
export const CLOCK_TICK_MS = 15_000;

/**
 * The current time as a signal, ticking every {@link CLOCK_TICK_MS}, so relative times
 * stay right on a page that no longer polls (a finished job). One timer for the app.
 */
@Injectable({ providedIn: 'root' })
export class ClockService {
  private readonly nowState = signal(Date.now());
  readonly now: Signal<number> = this.nowState.asReadonly();

  constructor() {
    setInterval(() => this.nowState.set(Date.now()), CLOCK_TICK_MS);
  }
}
