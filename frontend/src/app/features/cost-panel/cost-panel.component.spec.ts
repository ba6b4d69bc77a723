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

  it('shows $ per million jobs apart from $ per hour of idle fleet, beside the design model', async () => {
    httpMock.expectOne('/api/cost').flush(makeCostReport());
    await settle();

    expect(byTestId('cost-panel')).not.toBeNull();
    expect(text('cost-panel')).toContain('Counted from the AWS calls of every process');
    expect(text('cost-window')).toBe('Over the last hour (counted for 30 min)');
    expect(text('cost-jobs')).toBe('1,200 jobs created · 1,198 finished');
    expect(text('cost-processes')).toBe('4 processes reporting');
    expect(text('cost-total')).toBe('$4.10');
    expect(text('cost-idle')).toBe('$0.002088');
    expect(text('cost-idle-month')).toBe('$1.50');
    // Both figures explained in plain words, and what the comparison is.
    expect(text('cost-explain')).toContain('Per million jobs is what the jobs themselves cost');
    expect(text('cost-explain')).toContain(
      'Per hour of idle fleet is what the running processes cost',
    );
    expect(text('cost-panel')).toContain("the cost estimate in the project's design document");
    expect(text('cost-panel').toLowerCase()).not.toContain('seed');
    expect(text('cost-units')).toContain('4,800 for these jobs, where the backend reported 3,000');

    const keys = Array.from(el().querySelectorAll('[data-testid="cost-row"]')).map((r) =>
      r.getAttribute('data-key'),
    );
    expect(keys).toEqual([
      'sqsRequests',
      'snsRequests',
      's3WriteRequests',
      's3ReadRequests',
      'dynamodbRequests',
      'dynamodbWriteRequests',
      'dynamodbWriteUnits',
      'dynamodbReadUnits',
      'meterWrites',
      'sqs',
      'sns',
      's3',
      'dynamodbWrites',
      'dynamodbReads',
      'total',
    ]);
    expect(cell('sqsRequests', 'cost-per-job')).toBe('2.3');
    expect(cell('sqsRequests', 'cost-per-hour')).toBe('720');
    expect(cell('snsRequests', 'cost-per-job')).toBe('1.3');
    expect(cell('dynamodbWriteUnits', 'cost-per-job')).toBe('4');
    expect(cell('dynamodbReadUnits', 'cost-per-job')).toBe('0.2');
    expect(cell('meterWrites', 'cost-per-job')).toBe('0');
    expect(cell('meterWrites', 'cost-per-hour')).toBe('1,440');

    expect(cell('sqs', 'cost-per-million')).toBe('$0.92');
    expect(cell('sqs', 'cost-design-per-million')).toBe('$0.3974 batched $0.0386');
    expect(cell('sqs', 'cost-monthly')).toBe('$238.46');
    expect(cell('sqs', 'cost-design-monthly')).toBe('$103.00 batched $10.00');
    expect(cell('sqs', 'cost-idle-per-hour')).toBe('$0.000288');
    expect(cell('sns', 'cost-per-million')).toBe('$0.65');
    expect(cell('sns', 'cost-design-per-million')).toBe('—');
    expect(cell('s3', 'cost-design-per-million')).toBe('—');
    expect(cell('dynamodbWrites', 'cost-per-million')).toBe('$2.50');
    expect(cell('dynamodbWrites', 'cost-design-per-million')).toBe('$0.9505');
    expect(cell('dynamodbWrites', 'cost-design-monthly')).toBe('$246.38');
    expect(cell('dynamodbReads', 'cost-design-monthly')).toBe('$4.93');
    expect(cell('total', 'cost-per-million')).toBe('$4.10');
    expect(cell('total', 'cost-monthly')).toBe('$1,062.72');
    expect(cell('total', 'cost-design-monthly')).toBe('$354.31');
    expect(cell('total', 'cost-idle-per-hour')).toBe('$0.002088');
    expect(text('cost-panel')).toContain('Jobs, $ per month at 100 jobs/s');

    const calls = Array.from(byTestId('cost-requests')!.querySelectorAll('li')).map((li) =>
      li.getAttribute('data-call'),
    );
    expect(calls).toEqual(['dynamodb.PutItem', 'sqs.ReceiveMessage', 'sqs.SendMessage']);
  });

  it('shows "—" for per-job figures while no job has been counted, and the idle cost already', async () => {
    httpMock.expectOne('/api/cost').flush(makeEmptyCostReport());
    await settle();

    expect(text('cost-total')).toBe('—');
    expect(text('cost-idle')).toBe('$0.002088');
    expect(text('cost-jobs')).toBe('0 jobs created · 0 finished');
    expect(text('cost-processes')).toBe('1 process reporting');
    expect(byTestId('cost-no-jobs')).not.toBeNull();
    for (const key of ['sqsRequests', 'snsRequests', 'dynamodbRequests', 'dynamodbWriteUnits']) {
      expect(cell(key, 'cost-per-job')).toBe('—');
    }
    for (const key of ['sqs', 'sns', 'dynamodbWrites', 'dynamodbReads', 'total']) {
      expect(cell(key, 'cost-per-million')).toBe('—');
      expect(cell(key, 'cost-monthly')).toBe('—');
    }
    // The design model's figures do not depend on the counted jobs.
    expect(cell('dynamodbWrites', 'cost-design-per-million')).toBe('$0.9505');
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
    httpMock.expectOne('/api/cost').flush(
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
        {
          status: 403,
          statusText: 'Forbidden',
          headers: { 'content-type': 'application/problem+json' },
        },
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
