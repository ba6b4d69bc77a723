import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { ActivatedRoute, convertToParamMap, provideRouter } from '@angular/router';

import { JOB_ID, JOB_TYPES, makeJob, problem } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { JobFormComponent } from './job-form.component';

/** Issue 15 "Re-run": `/new?from=<id>` fills the form with that job's name, type and payload. */
describe('JobFormComponent re-run pre-fill', () => {
  let fixture: ComponentFixture<JobFormComponent>;
  let httpMock: HttpTestingController;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const field = <T extends HTMLElement>(id: string): T =>
    el().querySelector<T>(`[data-testid="${id}"]`)!;
  const settle = (): Promise<void> => fixture.whenStable();

  async function open(from: string | null): Promise<void> {
    TestBed.configureTestingModule({
      imports: [JobFormComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
        {
          provide: ActivatedRoute,
          useValue: {
            snapshot: { queryParamMap: convertToParamMap(from === null ? {} : { from }) },
          },
        },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    localStorage.setItem('batchlab.ownerId', 'alice');
    fixture = TestBed.createComponent(JobFormComponent);
    await settle();
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
  }

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    localStorage.clear();
  });

  it('fills name, type and payload from the job', async () => {
    await open(JOB_ID);
    httpMock
      .expectOne(`/api/jobs/${JOB_ID}`)
      .flush(
        makeJob({
          name: 'Hash it',
          type: 'sha256',
          payload: { text: 'again' },
          status: 'COMPLETED',
        }),
      );
    await settle();
    expect(field<HTMLInputElement>('job-name').value).toBe('Hash it');
    expect(field<HTMLSelectElement>('job-type').value).toBe('sha256');
    expect(JSON.parse(field<HTMLTextAreaElement>('job-payload').value)).toEqual({ text: 'again' });
    expect(field('rerun-note').textContent).toContain(`Re-run of job ${JOB_ID}`);
  });

  it('fetches a payload kept apart from the job', async () => {
    await open(JOB_ID);
    httpMock
      .expectOne(`/api/jobs/${JOB_ID}`)
      .flush(makeJob({ type: 'sha256', payload: null, payloadBytes: 9000 }));
    await settle();
    httpMock.expectOne(`/api/jobs/${JOB_ID}/payload`).flush({ text: 'big' });
    await settle();
    expect(JSON.parse(field<HTMLTextAreaElement>('job-payload').value)).toEqual({ text: 'big' });
  });

  it('says so when the job cannot be loaded, and keeps the form usable', async () => {
    await open('nope');
    httpMock.expectOne('/api/jobs/nope').flush(problem(404, { detail: 'Job nope not found' }), {
      status: 404,
      statusText: 'Not Found',
    });
    await settle();
    expect(field('rerun-note').textContent).toContain('Job nope not found');
    expect(field<HTMLSelectElement>('job-type').value).toBe(JOB_TYPES[0].type);
  });

  it('asks for nothing without `from`', async () => {
    await open(null);
    httpMock.expectNone((r) => r.url.startsWith('/api/jobs'));
    expect(el().querySelector('[data-testid="rerun-note"]')).toBeNull();
  });
});
