import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { makeBatchSummary, ManualPolling } from '../../../testing/batch-fixtures';
import { problem } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { BatchPage } from '../../core/models/batch.model';
import { OwnerService } from '../../core/services/owner.service';
import { PollTurns } from '../../core/services/poll-turns';
import { PollingService } from '../../core/services/polling.service';
import { BatchListComponent } from './batch-list.component';

const ENDED = { status: 'COMPLETED' as const, progress: 100 };

describe('BatchListComponent', () => {
  let fixture: ComponentFixture<BatchListComponent>;
  let httpMock: HttpTestingController;
  let polling: ManualPolling;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = (id: string): HTMLElement | null => el().querySelector(`[data-testid="${id}"]`);
  const rows = (): HTMLElement[] =>
    Array.from(el().querySelectorAll<HTMLElement>('[data-testid="batch-row"]'));
  const settle = (): Promise<void> => fixture.whenStable();

  function expectList(): TestRequest {
    return httpMock.expectOne((req) => req.url === '/api/batches' && req.method === 'GET');
  }

  async function flush(page: BatchPage): Promise<void> {
    expectList().flush(page);
    await settle();
  }

  async function tick(): Promise<void> {
    polling.tick();
    await settle();
  }

  async function create(ownerId: string | null = 'alice'): Promise<void> {
    localStorage.clear();
    if (ownerId !== null) {
      localStorage.setItem('batchlab.ownerId', ownerId);
    }
    fixture = TestBed.createComponent(BatchListComponent);
    await settle();
  }

  beforeEach(() => {
    TestBed.configureTestingModule({
      imports: [BatchListComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
        { provide: PollingService, useClass: ManualPolling },
        PollTurns,
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    polling = TestBed.inject(PollingService) as unknown as ManualPolling;
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    localStorage.clear();
  });

  it('sends nothing and shows nothing without an owner', async () => {
    await create(null);
    await tick();
    httpMock.expectNone('/api/batches');
    expect(byTestId('batch-list')).toBeNull();
  });

  it("lists the owner's batches newest first, each linking to its page", async () => {
    await create();
    const req = expectList();
    expect(req.request.params.get('ownerId')).toBe('alice');
    expect(req.request.params.get('limit')).toBe('5');
    req.flush({
      items: [
        makeBatchSummary('b2'),
        makeBatchSummary('b1', { ...ENDED, status: 'COMPLETED_WITH_FAILURES' }),
      ],
      nextCursor: null,
    });
    await settle();
    expect(rows().map((r) => r.getAttribute('data-batch-id'))).toEqual(['b2', 'b1']);
    expect(rows()[0].getAttribute('href')).toBe('/batches/b2');
    expect(rows()[0].textContent).toContain('Batch b2');
    expect(rows()[0].textContent).toContain('760 / 2,000');
    expect(rows()[0].textContent).toContain('60 failed');
    expect(rows()[1].querySelector('app-batch-badge')?.textContent?.trim()).toBe(
      'COMPLETED WITH FAILURES',
    );
  });

  it('refreshes with ONE request per tick while a batch runs, then stops', async () => {
    await create();
    await flush({ items: [makeBatchSummary('b1')], nextCursor: null });
    await tick();
    await flush({ items: [makeBatchSummary('b1', { progress: 90 })], nextCursor: null });
    expect(rows()[0].querySelector('app-progress-bar')?.getAttribute('aria-valuenow')).toBe('90');
    await tick();
    await flush({ items: [makeBatchSummary('b1', ENDED)], nextCursor: null });
    expect(polling.active).toBe(0);
    await tick();
    httpMock.expectNone('/api/batches');
  });

  it('reads once for an owner without batches and offers the batch form', async () => {
    await create();
    expect(byTestId('batch-list')).toBeNull(); // nothing until the first page arrived
    await flush({ items: [], nextCursor: null });
    expect(byTestId('batch-list-empty')).not.toBeNull();
    expect(byTestId('batch-list')!.querySelector('a.btn')?.getAttribute('href')).toBe(
      '/batches/new',
    );
    expect(polling.active).toBe(0);
  });

  it('pages with the cursor and reloads when the owner changes', async () => {
    await create();
    await flush({ items: [makeBatchSummary('b9', ENDED)], nextCursor: 'c2' });
    byTestId('batches-next')!.click();
    await settle();
    const next = expectList();
    expect(next.request.params.get('cursor')).toBe('c2');
    next.flush({ items: [makeBatchSummary('b1', ENDED)], nextCursor: null });
    await settle();
    expect(rows().map((r) => r.getAttribute('data-batch-id'))).toEqual(['b1']);

    TestBed.inject(OwnerService).setOwnerId('bob');
    await settle();
    const bob = expectList();
    expect(bob.request.params.get('ownerId')).toBe('bob');
    expect(bob.request.params.has('cursor')).toBe(false);
    bob.flush({ items: [], nextCursor: null });
  });

  it('shows a failed refresh and keeps polling', async () => {
    await create();
    await flush({ items: [makeBatchSummary('b1')], nextCursor: null });
    await tick();
    expectList().flush(problem(500, { detail: 'boom' }), {
      status: 500,
      statusText: 'Server Error',
    });
    await settle();
    expect(byTestId('batch-list-error')?.textContent).toContain('boom');
    expect(rows()).toHaveLength(1);
    await tick();
    await flush({ items: [makeBatchSummary('b1', ENDED)], nextCursor: null });
    expect(byTestId('batch-list-error')).toBeNull();
  });
});
