import { TestBed } from '@angular/core/testing';
import { Observable, of, Subscription } from 'rxjs';

import { setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { PollTurns } from './poll-turns';
import { POLL_INTERVAL_MS } from './polling.service';

describe('PollTurns', () => {
  let turns: PollTurns;
  let sent: string[];
  const subscriptions: Subscription[] = [];
  const request = (name: string) => (): Observable<string> => {
    sent.push(name);
    return of(name);
  };
  const follow = (name: string): Subscription => {
    const subscription = turns.poll(request(name)).subscribe();
    subscriptions.push(subscription);
    return subscription;
  };

  beforeEach(() => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      providers: [PollTurns, { provide: POLL_INTERVAL_MS, useValue: 1000 }],
    });
    turns = TestBed.inject(PollTurns);
    sent = [];
  });

  afterEach(() => {
    subscriptions.splice(0).forEach((s) => s.unsubscribe());
    vi.useRealTimers();
    setDocumentVisibility('visible');
  });

  it('answers each member at once, then one request per interval in turns', () => {
    follow('jobs');
    follow('batches');
    expect(sent).toEqual(['jobs', 'batches']);
    sent = [];
    vi.advanceTimersByTime(4000);
    expect(sent).toEqual(['jobs', 'batches', 'jobs', 'batches']);
  });

  it('gives every turn to those left when a member stops, and stops with the last', () => {
    follow('jobs');
    const batches = follow('batches');
    batches.unsubscribe();
    sent = [];
    vi.advanceTimersByTime(3000);
    expect(sent).toEqual(['jobs', 'jobs', 'jobs']);
    subscriptions.forEach((s) => s.unsubscribe());
    vi.advanceTimersByTime(3000);
    expect(sent).toHaveLength(3);
  });

  it('sends nothing while the tab is hidden, one request when it shows again', () => {
    follow('jobs');
    follow('batches');
    setDocumentVisibility('hidden');
    sent = [];
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual([]);
    setDocumentVisibility('visible');
    expect(sent).toHaveLength(1);
  });
});
