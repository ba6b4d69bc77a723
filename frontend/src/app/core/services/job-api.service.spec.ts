import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { JOB_ID, JOB_TYPES, makeCostReport, makeJob, makeQueueStats, makeSummary } from '../../../testing/fixtures';
import { problemInterceptor } from '../interceptors/problem.interceptor';
import { CostReport } from '../models/cost.model';
import { Job, JobPage } from '../models/job.model';
import { JobType } from '../models/job-type.model';
import { QueueStats } from '../models/queue.model';
import { CostApiService } from './cost-api.service';
import { JobApiService } from './job-api.service';
import { JobTypeService } from './job-type.service';
import { QueueApiService } from './queue-api.service';

describe('API services', () => {
  let httpMock: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(withInterceptors([problemInterceptor])), provideHttpClientTesting()],
    });
    httpMock = TestBed.inject(HttpTestingController);
  });

  afterEach(() => httpMock.verify());

  describe('JobApiService', () => {
    let api: JobApiService;
    beforeEach(() => (api = TestBed.inject(JobApiService)));

    it('POSTs a new job to /api/jobs', () => {
      let created: Job | null = null;
      const body = { name: 'n', type: 'sha256', payload: { text: 'x' }, ownerId: 'alice' };
      api.createJob(body).subscribe((job) => (created = job));
      const req = httpMock.expectOne('/api/jobs');
      expect(req.request.method).toBe('POST');
      expect(req.request.body).toEqual(body);
      req.flush(makeJob(), { status: 202, statusText: 'Accepted' });
      expect(created).toEqual(makeJob());
    });

    it('sends Idempotency-Key only when given one', () => {
      const body = { name: 'n', type: 'sha256', payload: { text: 'x' }, ownerId: 'alice' };
      api.createJob(body, 'b3c1e7a2-0000-4000-8000-000000000001').subscribe();
      const keyed = httpMock.expectOne('/api/jobs');
      expect(keyed.request.headers.get('Idempotency-Key')).toBe('b3c1e7a2-0000-4000-8000-000000000001');
      keyed.flush(makeJob());

      api.createJob(body).subscribe();
      const plain = httpMock.expectOne('/api/jobs');
      expect(plain.request.headers.has('Idempotency-Key')).toBe(false);
      plain.flush(makeJob());
    });

    it('GETs one job by id', () => {
      api.getJob(JOB_ID).subscribe();
      const req = httpMock.expectOne(`/api/jobs/${JOB_ID}`);
      expect(req.request.method).toBe('GET');
      req.flush(makeJob());
    });

    it('lists jobs with owner, limit, and optional status and cursor', () => {
      let page: JobPage | null = null;
      api.listJobs({ ownerId: 'alice', status: null, limit: 20, cursor: null }).subscribe((p) => (page = p));
      const first = httpMock.expectOne((r) => r.url === '/api/jobs');
      expect(first.request.params.keys().sort()).toEqual(['limit', 'ownerId']);
      expect(first.request.urlWithParams).toBe('/api/jobs?ownerId=alice&limit=20');
      first.flush({ items: [makeSummary('a')], nextCursor: 'c1' });
      expect(page).toEqual({ items: [makeSummary('a')], nextCursor: 'c1' });

      api.listJobs({ ownerId: 'alice', status: 'FAILED', limit: 5, cursor: 'abc+/=' }).subscribe();
      const second = httpMock.expectOne((r) => r.url === '/api/jobs');
      expect(second.request.params.get('status')).toBe('FAILED');
      expect(second.request.params.get('cursor')).toBe('abc+/=');
      expect(second.request.params.get('limit')).toBe('5');
      second.flush({ items: [], nextCursor: null });
    });

    it('POSTs a cancel', () => {
      api.cancelJob(JOB_ID).subscribe();
      const req = httpMock.expectOne(`/api/jobs/${JOB_ID}/cancel`);
      expect(req.request.method).toBe('POST');
      req.flush(makeJob({ status: 'CANCELLED' }));
    });
  });

  it('JobTypeService GETs /api/job-types', () => {
    let types: JobType[] = [];
    TestBed.inject(JobTypeService).getJobTypes().subscribe((t) => (types = t));
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    expect(types.map((t) => t.type)).toEqual(['text-stats', 'sha256', 'csv-summary', 'simulate']);
  });

  it('QueueApiService GETs /api/queues', () => {
    let stats: QueueStats | null = null;
    TestBed.inject(QueueApiService).getQueueStats().subscribe((s) => (stats = s));
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
    expect(stats).toEqual(makeQueueStats());
  });

  it('CostApiService GETs /api/cost', () => {
    let report: CostReport | null = null;
    TestBed.inject(CostApiService).getCostReport().subscribe((r) => (report = r));
    const req = httpMock.expectOne('/api/cost');
    expect(req.request.method).toBe('GET');
    req.flush(makeCostReport());
    expect(report).toEqual(makeCostReport());
  });
});
