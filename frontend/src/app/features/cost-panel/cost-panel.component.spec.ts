import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';

import {
  makeCostReport,
  makeEmptyCostReport,
  setDocumentVisibility,
  useFakeIntervals,
} from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { CostPanelComponent } from './cost-panel.component';

const INTERVAL = 1000;

describe('CostPanelComponent', () => {
  let fixture: ComponentFixture<CostPanelComponent>;
  let httpMock: HttpTestingController;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = (id: string): HTMLElement | null =>
    el().querySelector<HTMLElement>(`[data-testid="${id}"]`);
  const text = (id: string): string => byTestId(id)?.textContent?.trim().replace(/\s+/g, ' ') ?? '';
  const settle = (): Promise<void> => fixture.whenStable();
  const row = (key: string): HTMLElement =>
    el().querySelector<HTMLElement>(`[data-testid="cost-row"][data-key="${key}"]`)!;
  const cell = (key: string, id: string): string =>
    row(key).querySelector(`[data-testid="${id}"]`)?.textContent?.trim().replace(/\s+/g, ' ') ?? '';

  async function advance(ms: number): Promise<void> {
    vi.advanceTimersByTime(ms);
    await settle();
  }

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [CostPanelComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(CostPanelComponent);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
    setDocumentVisibility('visible');
  });

  it('shows requests per job, $ per million jobs and monthly $ beside the seed model', async () => {
    httpMock.expectOne('/api/cost').flush(makeCostReport());
    await settle();

    expect(byTestId('cost-panel')).not.toBeNull();
    expect(text('cost-panel')).toContain("Counted from every API and worker process's AWS calls");
    expect(text('cost-jobs')).toBe('1,200 jobs created · 1,198 finished');
    expect(text('cost-processes')).toBe('4 processes reporting');
    expect(text('cost-total')).toBe('$4.10');

    const keys = Array.from(el().querySelectorAll('[data-testid="cost-row"]')).map((r) =>
      r.getAttribute('data-key'),
    );
    expect(keys).toEqual([
      'sqsRequests',
      'snsRequests',
      'dynamodbRequests',
      'dynamodbWriteRequests',
      'dynamodbWriteUnits',
      'dynamodbReadUnits',
      'meterWrites',
      'sqs',
      'sns',
      'dynamodbWrites',
      'dynamodbReads',
      'total',
    ]);
    expect(cell('sqsRequests', 'cost-per-job')).toBe('2.3');
    expect(cell('snsRequests', 'cost-per-job')).toBe('1.3');
    expect(cell('dynamodbWriteUnits', 'cost-per-job')).toBe('4');
    expect(cell('dynamodbReadUnits', 'cost-per-job')).toBe('0.2');
    expect(cell('meterWrites', 'cost-per-job')).toBe('0.01');

    expect(cell('sqs', 'cost-per-million')).toBe('$0.92');
    expect(cell('sqs', 'cost-seed-per-million')).toBe('$0.3974 batched $0.0386');
    expect(cell('sqs', 'cost-monthly')).toBe('$238.46');
    expect(cell('sqs', 'cost-seed-monthly')).toBe('$103.00 batched $10.00');
    expect(cell('sns', 'cost-per-million')).toBe('$0.65');
    expect(cell('sns', 'cost-seed-per-million')).toBe('—');
    expect(cell('dynamodbWrites', 'cost-per-million')).toBe('$2.50');
    expect(cell('dynamodbWrites', 'cost-seed-per-million')).toBe('$0.9505');
    expect(cell('dynamodbWrites', 'cost-seed-monthly')).toBe('$246.38');
    expect(cell('dynamodbReads', 'cost-seed-monthly')).toBe('$4.93');
    expect(cell('total', 'cost-per-million')).toBe('$4.10');
    expect(cell('total', 'cost-monthly')).toBe('$1,062.72');
    expect(cell('total', 'cost-seed-monthly')).toBe('$354.31');
    expect(text('cost-panel')).toContain('$ per month at 100 jobs/s');

    const calls = Array.from(byTestId('cost-requests')!.querySelectorAll('li')).map((li) =>
      li.getAttribute('data-call'),
    );
    expect(calls).toEqual(['dynamodb.PutItem', 'sqs.ReceiveMessage', 'sqs.SendMessage']);
  });

  it('shows "—" for null figures while no job has been counted', async () => {
    httpMock.expectOne('/api/cost').flush(makeEmptyCostReport());
    await settle();

    expect(text('cost-total')).toBe('—');
    expect(text('cost-jobs')).toBe('0 jobs created · 0 finished');
    expect(text('cost-processes')).toBe('1 process reporting');
    expect(byTestId('cost-no-jobs')).not.toBeNull();
    for (const key of [
      'sqsRequests',
      'snsRequests',
      'dynamodbRequests',
      'dynamodbWriteUnits',
      'meterWrites',
    ]) {
      expect(cell(key, 'cost-per-job')).toBe('—');
    }
    for (const key of ['sqs', 'sns', 'dynamodbWrites', 'dynamodbReads', 'total']) {
      expect(cell(key, 'cost-per-million')).toBe('—');
      expect(cell(key, 'cost-monthly')).toBe('—');
    }
    // The seed's figures do not depend on the counted jobs.
    expect(cell('dynamodbWrites', 'cost-seed-per-million')).toBe('$0.9505');
    expect(byTestId('cost-requests')).toBeNull();
  });

  it('polls every interval, keeps going after errors and pauses while hidden', async () => {
    httpMock.expectOne('/api/cost').flush(makeCostReport());
    await settle();
    await advance(INTERVAL - 1);
    httpMock.expectNone('/api/cost');

    await advance(1);
    httpMock.expectOne('/api/cost').error(new ProgressEvent('error'));
    await settle();
    expect(text('cost-error')).toContain('cannot be reached');
    expect(text('cost-total')).toBe('$4.10');

    await advance(INTERVAL);
    httpMock
      .expectOne('/api/cost')
      .flush(
        makeCostReport({
          dollarsPerMillionJobs: { sqs: 1, sns: 1, dynamodbWrites: 1, dynamodbReads: 2, total: 5 },
        }),
      );
    await settle();
    expect(byTestId('cost-error')).toBeNull();
    expect(text('cost-total')).toBe('$5.00');

    setDocumentVisibility('hidden');
    await advance(INTERVAL * 5);
    httpMock.expectNone('/api/cost');
    setDocumentVisibility('visible');
    await settle();
    httpMock.expectOne('/api/cost').flush(makeCostReport());
  });

  it("says the figures are for operators on a 403 (a tenant's key) and stops polling", async () => {
    httpMock
      .expectOne('/api/cost')
      .flush(
        { type: 'about:blank', title: 'Forbidden', status: 403, detail: 'needs an operator key' },
        { status: 403, statusText: 'Forbidden', headers: { 'content-type': 'application/problem+json' } },
      );
    await settle();
    expect(text('cost-operator-only')).toContain('operator');
    expect(byTestId('cost-error')).toBeNull();
    expect(byTestId('cost-total')).toBeNull();
    await advance(INTERVAL * 3);
    httpMock.expectNone('/api/cost');
  });

  it('stops polling when destroyed', async () => {
    httpMock.expectOne('/api/cost').flush(makeCostReport());
    fixture.destroy();
    vi.advanceTimersByTime(INTERVAL * 5);
    httpMock.expectNone('/api/cost');
  });
});
