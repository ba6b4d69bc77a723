import { inject, Injectable, signal } from '@angular/core';
import { Observable, Subscription, take, tap } from 'rxjs';

import { PollingService } from './polling.service';

interface Member {
  request: () => Observable<unknown>;
}

/**
 * One poll loop shared by the lists of a page, so that the page sends at most one request
 * per polling interval however many lists it shows (the design's "polling is aggregated per
 * user"; My jobs used to send `GET /api/jobs` and `GET /api/batches` every interval).
 *
 * Provide it in the page component (`providers: [PollTurns]`); each list polls through
 * `poll(request)` instead of `PollingService.pollWhileVisible`. A list gets its first answer
 * at once (the page's initial load), then joins the loop; the loop requests every interval,
 * only while the tab is visible, and the lists still polling take turns (round robin): with
 * two lists each is refreshed every other interval. A list that stops polling (unsubscribes,
 * e.g. once all its batches ended) leaves the turns, and the others get every interval again.
 * A list that restarts (a new filter, a refresh) gets its first answer at once again.
 *
 * As with `pollWhileVisible`, `request` must not error (wrap it with `toOutcome`), and a
 * failed outcome's Retry-After delays the next turn, whoever's it is.
 */
@Injectable()
export class PollTurns {
  private readonly polling = inject(PollingService);
  private readonly members: Member[] = [];
  private nextTurn = 0;
  private loop: Subscription | null = null;
  private readonly sharing = signal(0);
  /** How many lists take turns now: each is refreshed every `sharers()` intervals. */
  readonly sharers = this.sharing.asReadonly();

  poll<T>(request: () => Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const member: Member = {
        request: () => request().pipe(tap((value) => subscriber.next(value))),
      };
      const first = this.polling
        .pollWhileVisible(request)
        .pipe(take(1))
        .subscribe((value) => {
          subscriber.next(value);
          if (!subscriber.closed) {
            this.join(member); // not when the first answer was the last (e.g. all ended)
          }
        });
      return () => {
        first.unsubscribe();
        this.leave(member);
      };
    });
  }

  private join(member: Member): void {
    this.members.push(member);
    this.sharing.set(this.members.length);
    this.loop ??= this.polling
      .pollWhileVisible(() => this.takeTurn(), { startLater: true })
      .subscribe();
  }

  private leave(member: Member): void {
    const index = this.members.indexOf(member);
    if (index < 0) {
      return;
    }
    this.members.splice(index, 1);
    this.sharing.set(this.members.length);
    if (index < this.nextTurn) {
      this.nextTurn -= 1;
    }
    if (this.members.length === 0) {
      this.loop?.unsubscribe();
      this.loop = null;
      this.nextTurn = 0;
    }
  }

  /** The request of the member whose turn it is (the loop runs only while there is one). */
  private takeTurn(): Observable<unknown> {
    const index = this.nextTurn % this.members.length;
    this.nextTurn = (index + 1) % this.members.length;
    return this.members[index].request();
  }
}
