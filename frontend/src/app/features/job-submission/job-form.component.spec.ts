import {
  HttpEventType,
  HttpHeaders,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { JOB_TYPES, makeJob, problem } from '../../../testing/fixtures';
import { apiKeyInterceptor } from '../../core/interceptors/api-key.interceptor';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { JobFormComponent } from './job-form.component';

describe('JobFormComponent', () => {
  let fixture: ComponentFixture<JobFormComponent>;
  let httpMock: HttpTestingController;
  let navigate: ReturnType<typeof vi.spyOn>;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T | null =>
    el().querySelector<T>(`[data-testid="${id}"]`);
  const text = (id: string): string => byTestId(id)?.textContent?.trim() ?? '';
  const settle = (): Promise<void> => fixture.whenStable();

  async function type(id: string, value: string): Promise<void> {
    const input = byTestId<HTMLInputElement | HTMLTextAreaElement>(id)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new Event('blur'));
    await settle();
  }

  async function select(id: string, value: string): Promise<void> {
    const element = byTestId<HTMLSelectElement>(id)!;
    element.value = value;
    element.dispatchEvent(new Event('change'));
    await settle();
  }

  async function submit(): Promise<void> {
    byTestId<HTMLButtonElement>('submit-job')!.click();
    await settle();
  }

  function payload(): unknown {
    return JSON.parse(byTestId<HTMLTextAreaElement>('job-payload')!.value);
  }

  function expectNoPost(): void {
    httpMock.expectNone((req) => req.method === 'POST');
  }

  async function create(ownerId: string | null = 'alice'): Promise<void> {
    localStorage.clear();
    if (ownerId !== null) {
      localStorage.setItem('batchlab.ownerId', ownerId);
    }
    fixture = TestBed.createComponent(JobFormComponent);
    await settle();
  }

  async function createLoaded(): Promise<void> {
    await create();
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
  }

  async function submitValid(): Promise<TestRequest> {
    await type('job-name', 'My job');
    await submit();
    return httpMock.expectOne((req) => req.method === 'POST' && req.url === '/api/jobs');
  }

  beforeEach(() => {
    TestBed.configureTestingModule({
      imports: [JobFormComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    localStorage.clear();
  });

  it('asks for the owner id first', async () => {
    await create(null);
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
    expect(byTestId('owner-required')).not.toBeNull();
    expect(byTestId('job-name')).toBeNull();
    expect(byTestId('submit-job')).toBeNull();
  });

  it('loads the job types and prefills the payload with the example', async () => {
    await createLoaded();
    const options = Array.from(byTestId<HTMLSelectElement>('job-type')!.options).map(
      (o) => o.value,
    );
    expect(options).toEqual(['text-stats', 'sha256', 'csv-summary', 'simulate']);
    expect(byTestId<HTMLSelectElement>('job-type')!.value).toBe('text-stats');
    expect(payload()).toEqual({ text: 'hello world' });
    expect(text('job-type-description')).toContain('Counts words');

    await select('job-type', 'csv-summary');
    expect(payload()).toEqual({ csv: 'a,b\n1,2\n' });
    expect(byTestId('sim-duration')).toBeNull();
  });

  it('shows an error with a retry when the job types cannot be loaded', async () => {
    await create();
    httpMock
      .expectOne('/api/job-types')
      .flush(problem(503, { detail: 'Down' }), { status: 503, statusText: 'x' });
    await settle();
    expect(text('job-types-error')).toContain('Down');
    expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(true);
    byTestId('job-types-error')!.querySelector('button')!.click();
    await settle();
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
    expect(byTestId('job-types-error')).toBeNull();
    expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(false);
  });

  describe('client-side validation', () => {
    beforeEach(createLoaded);

    it('requires a name', async () => {
      expect(byTestId('error-name')).toBeNull();
      await submit();
      expect(text('error-name')).toBe('This field is required.');
      expectNoPost();
    });

    it('limits the name to 100 characters', async () => {
      await type('job-name', 'x'.repeat(101));
      expect(text('error-name')).toBe('At most 100 characters.');
      await submit();
      expectNoPost();
      await type('job-name', 'x'.repeat(100));
      expect(byTestId('error-name')).toBeNull();
    });

    it('rejects a whitespace-only name', async () => {
      await type('job-name', '   ');
      await submit();
      expect(text('error-name')).toContain('only spaces');
      expectNoPost();
    });

    it('requires the payload to be valid JSON', async () => {
      await type('job-name', 'ok');
      await type('job-payload', '{"text": ');
      expect(text('error-payload')).toContain('Invalid JSON');
      await submit();
      expectNoPost();
    });

    it('requires the payload to be a JSON object', async () => {
      await type('job-name', 'ok');
      await type('job-payload', '[1, 2]');
      expect(text('error-payload')).toContain('must be a JSON object');
      await type('job-payload', 'null');
      expect(text('error-payload')).toContain('must be a JSON object');
      await type('job-payload', '');
      expect(text('error-payload')).toBe('This field is required.');
      await submit();
      expectNoPost();
    });

    it('rejects a payload over 64 KB', async () => {
      await type('job-name', 'ok');
      await type('job-payload', JSON.stringify({ text: 'x'.repeat(70 * 1024) }));
      expect(text('error-payload')).toContain('too large');
      await submit();
      expectNoPost();
    });
  });

  describe('simulate knobs', () => {
    beforeEach(async () => {
      await createLoaded();
      await select('job-type', 'simulate');
    });

    it('are prefilled from the example', () => {
      expect(byTestId<HTMLInputElement>('sim-duration')!.value).toBe('10');
      expect(byTestId<HTMLInputElement>('sim-failure')!.value).toBe('0.2');
      expect(byTestId<HTMLInputElement>('sim-steps')!.value).toBe('5');
      expect(payload()).toEqual({ durationSeconds: 10, failureProbability: 0.2, steps: 5 });
    });

    it('write into the payload', async () => {
      await type('sim-duration', '30');
      await type('sim-failure', '0.5');
      await type('sim-steps', '12');
      expect(payload()).toEqual({ durationSeconds: 30, failureProbability: 0.5, steps: 12 });
    });

    it('follow edits of the payload', async () => {
      await type('job-payload', '{"durationSeconds": 7, "failureProbability": 1, "steps": 3}');
      expect(byTestId<HTMLInputElement>('sim-duration')!.value).toBe('7');
      expect(byTestId<HTMLInputElement>('sim-failure')!.value).toBe('1');
      expect(byTestId<HTMLInputElement>('sim-steps')!.value).toBe('3');
    });

    it('enforce the API ranges', async () => {
      await type('job-name', 'sim');
      await type('sim-duration', '901');
      expect(text('error-payload.durationSeconds')).toBe('Must be at most 900.');
      await type('sim-duration', '-1');
      expect(text('error-payload.durationSeconds')).toBe('Must be at least 0.');
      await type('sim-failure', '1.5');
      expect(text('error-payload.failureProbability')).toBe('Must be at most 1.');
      await type('sim-steps', '0');
      expect(text('error-payload.steps')).toBe('Must be at least 1.');
      await type('sim-steps', '101');
      expect(text('error-payload.steps')).toBe('Must be at most 100.');
      await type('sim-steps', '2.5');
      expect(text('error-payload.steps')).toBe('Must be a whole number.');
      await submit();
      expectNoPost();

      await type('sim-duration', '900');
      await type('sim-failure', '0');
      await type('sim-steps', '100');
      expect(byTestId('error-payload.durationSeconds')).toBeNull();
      expect(byTestId('error-payload.failureProbability')).toBeNull();
      expect(byTestId('error-payload.steps')).toBeNull();
    });

    it('are required', async () => {
      await type('sim-steps', '');
      await submit();
      expect(text('error-payload.steps')).toBe('This field is required.');
      expectNoPost();
    });

    it('are submitted as part of the payload', async () => {
      await type('sim-duration', '0');
      const req = await submitValid();
      expect(req.request.body).toEqual({
        name: 'My job',
        type: 'simulate',
        payload: { durationSeconds: 0, failureProbability: 0.2, steps: 5 },
        ownerId: 'alice',
      });
      req.flush(makeJob({ id: 'sim-1' }));
    });
  });

  it('submits, disables the button meanwhile, then opens the status view', async () => {
    await createLoaded();
    const req = await submitValid();
    expect(req.request.body).toEqual({
      name: 'My job',
      type: 'text-stats',
      payload: { text: 'hello world' },
      ownerId: 'alice',
    });
    await settle();
    expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(true);
    await submit();
    expectNoPost();
    req.flush(makeJob({ id: 'new-id' }), {
      status: 202,
      statusText: 'Accepted',
      headers: new HttpHeaders({ Location: '/api/jobs/new-id' }),
    });
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/jobs', 'new-id']);
  });

  describe('problem+json from the API', () => {
    beforeEach(createLoaded);

    it('shows field errors next to their fields and unknown ones in the general box', async () => {
      const req = await submitValid();
      req.flush(
        problem(422, {
          title: 'Validation failed',
          detail: 'The request is invalid',
          errors: [
            { field: 'name', message: 'name is taken' },
            { field: 'payload.text', message: 'text must not be empty' },
            { field: 'ownerId', message: 'unknown owner' },
            { field: 'priority', message: 'not allowed' },
          ],
        }),
        { status: 422, statusText: 'Unprocessable Entity' },
      );
      await settle();
      expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(false);
      expect(text('error-name')).toBe('name is taken');
      expect(byTestId('job-name')!.closest('.field')!.contains(byTestId('error-name'))).toBe(true);
      expect(text('error-payload.text')).toBe('text must not be empty');
      expect(
        byTestId('job-payload')!.closest('.field')!.contains(byTestId('error-payload.text')),
      ).toBe(true);
      expect(text('error-ownerId')).toBe('unknown owner');
      expect(text('form-error')).toContain('priority');
      expect(text('form-error')).toContain('not allowed');
      expect(text('form-error')).not.toContain('name is taken');
      expect(navigate).not.toHaveBeenCalled();

      // Editing a field clears its server error.
      await type('job-name', 'Another name');
      expect(byTestId('error-name')).toBeNull();
      expect(byTestId('error-payload.text')).not.toBeNull();
      await type('job-payload', '{"text": "hi"}');
      expect(byTestId('error-payload.text')).toBeNull();
    });

    it('hides the general box when every error belongs to a field', async () => {
      const req = await submitValid();
      req.flush(problem(422, { errors: [{ field: 'type', message: 'unknown type' }] }), {
        status: 422,
        statusText: 'Unprocessable Entity',
      });
      await settle();
      expect(text('error-type')).toBe('unknown type');
      expect(byTestId('form-error')).toBeNull();
    });

    it('shows simulate errors next to the knob', async () => {
      await select('job-type', 'simulate');
      const req = await submitValid();
      req.flush(
        problem(422, { errors: [{ field: 'payload.durationSeconds', message: 'too long' }] }),
        {
          status: 422,
          statusText: 'Unprocessable Entity',
        },
      );
      await settle();
      const error = byTestId('error-payload.durationSeconds');
      expect(error?.textContent?.trim()).toBe('Duration (s): too long');
      expect(byTestId('sim-duration')!.closest('.field')!.contains(error)).toBe(true);
    });

    it('shows the detail of a 413', async () => {
      const req = await submitValid();
      req.flush(
        problem(413, { title: 'Payload Too Large', detail: 'Request body exceeds 64 KB' }),
        {
          status: 413,
          statusText: 'Payload Too Large',
        },
      );
      await settle();
      expect(text('form-error')).toContain('Request body exceeds 64 KB');
    });

    it('shows the detail of a 400', async () => {
      const req = await submitValid();
      req.flush(problem(400, { title: 'Bad Request', detail: 'Malformed JSON' }), {
        status: 400,
        statusText: 'Bad Request',
      });
      await settle();
      expect(text('form-error')).toContain('Malformed JSON');
    });

    it('shows the detail and Retry-After of a 503', async () => {
      const req = await submitValid();
      req.flush(
        problem(503, { title: 'Service Unavailable', detail: 'The queue is unavailable' }),
        {
          status: 503,
          statusText: 'Service Unavailable',
          headers: new HttpHeaders({ 'Retry-After': '30' }),
        },
      );
      await settle();
      expect(text('form-error')).toContain('The queue is unavailable');
      expect(text('form-error')).toContain('Try again in 30 s');
      expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(false);
    });

    it('shows a network failure', async () => {
      const req = await submitValid();
      req.error(new ProgressEvent('error'));
      await settle();
      expect(text('form-error')).toContain('could not be reached');
    });

    it('asks for an API key on a 401', async () => {
      const req = await submitValid();
      req.flush(
        problem(401, { title: 'Unauthorized', detail: 'a valid X-API-Key header is required' }),
        {
          status: 401,
          statusText: 'Unauthorized',
        },
      );
      await settle();
      expect(text('form-error')).toContain('API key required');
      expect(text('form-error')).toContain('requires an API key');
      expect(text('form-error')).toContain('"API key" box at the top of the page');
      expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(false);
    });
  });

  describe('Idempotency-Key', () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const keyOf = (req: TestRequest): string | null => req.request.headers.get('Idempotency-Key');
    const fail503 = (req: TestRequest): void =>
      req.flush(
        problem(503, { title: 'Service Unavailable', detail: 'The queue is unavailable' }),
        {
          status: 503,
          statusText: 'Service Unavailable',
        },
      );

    async function resubmit(): Promise<TestRequest> {
      await submit();
      return httpMock.expectOne((req) => req.method === 'POST' && req.url === '/api/jobs');
    }

    beforeEach(createLoaded);

    it('is sent as a random UUID with the submit', async () => {
      const req = await submitValid();
      expect(keyOf(req)).toMatch(UUID);
      req.flush(makeJob({ id: 'new-id' }));
      await settle();
      expect(navigate).toHaveBeenCalledWith(['/jobs', 'new-id']);
    });

    it('is reused when the same form is submitted again after a 503 or a network error', async () => {
      const first = await submitValid();
      const key = keyOf(first);
      expect(key).toMatch(UUID);
      fail503(first);
      await settle();

      const second = await resubmit();
      expect(keyOf(second)).toBe(key);
      expect(second.request.body).toEqual(first.request.body);
      second.error(new ProgressEvent('error'));
      await settle();

      const third = await resubmit();
      expect(keyOf(third)).toBe(key);
      third.flush(makeJob({ id: 'once' }));
      await settle();
      expect(navigate).toHaveBeenCalledWith(['/jobs', 'once']);
    });

    it('changes after the form is edited', async () => {
      const first = await submitValid();
      const key = keyOf(first);
      fail503(first);
      await settle();

      await type('job-name', 'My job, edited');
      const second = await resubmit();
      expect(keyOf(second)).toMatch(UUID);
      expect(keyOf(second)).not.toBe(key);
      fail503(second);
      await settle();

      // Editing, even back to the values already sent, starts a new attempt.
      await type('job-name', 'Undo me');
      await type('job-name', 'My job, edited');
      const third = await resubmit();
      expect(third.request.body).toEqual(second.request.body);
      expect(keyOf(third)).toMatch(UUID);
      expect(keyOf(third)).not.toBe(keyOf(second));
      third.flush(makeJob());
    });

    it('changes after a definite rejection (422)', async () => {
      const first = await submitValid();
      first.flush(problem(422, { errors: [{ field: 'priority', message: 'not allowed' }] }), {
        status: 422,
        statusText: 'Unprocessable Entity',
      });
      await settle();
      const second = await resubmit();
      expect(keyOf(second)).toMatch(UUID);
      expect(keyOf(second)).not.toBe(keyOf(first));
      second.flush(makeJob());
    });
  });

  describe('CSV file upload (csv-summary)', () => {
    const S3 = 'http://127.0.0.1:4566/batchlab-data/uploads/alice/k/towns.csv';
    const KEY = 'uploads/alice/k/towns.csv';

    beforeEach(async () => {
      await createLoaded();
      await select('job-type', 'csv-summary');
    });

    async function chooseFile(file: File | null): Promise<void> {
      const input = byTestId<HTMLInputElement>('csv-file')!;
      Object.defineProperty(input, 'files', {
        configurable: true,
        value: { length: file ? 1 : 0, item: () => file },
      });
      input.dispatchEvent(new Event('change'));
      await settle();
    }

    function planFor() {
      return {
        kind: 'single',
        key: KEY,
        method: 'PUT',
        headers: { 'Content-Type': 'text/csv' },
        expiresAt: '2026-01-01T11:00:00Z',
        url: `${S3}?X-Amz-Signature=x`,
        uploadId: null,
        partSize: null,
        parts: [],
        completeUrl: null,
      };
    }

    it('is offered for csv-summary only', async () => {
      expect(byTestId('csv-file')).not.toBeNull();
      await select('job-type', 'sha256');
      expect(byTestId('csv-file')).toBeNull();
    });

    it('uploads the file with a progress bar, then submits the job naming the object', async () => {
      const file = new File(['city,temp\nOslo,4\n'], 'towns.csv', { type: 'text/csv' });
      await chooseFile(file);
      expect(text('file-hint')).toContain('towns.csv');
      expect(byTestId('job-payload')!.closest('.field')!.classList).toContain('hidden');
      await type('job-name', 'Towns');
      await submit();

      const ask = httpMock.expectOne((r) => r.method === 'POST' && r.url === '/api/uploads');
      expect(ask.request.body).toEqual({
        filename: 'towns.csv',
        contentType: 'text/csv',
        size: file.size,
        ownerId: 'alice',
      });
      ask.flush(planFor(), { status: 201, statusText: 'Created' });
      await settle();
      const put = httpMock.expectOne((r) => r.method === 'PUT' && r.url.startsWith(S3));
      expect(put.request.body).toBe(file);
      put.event({ type: HttpEventType.UploadProgress, loaded: 9, total: 18 });
      await settle();
      expect(byTestId('upload-progress')!.getAttribute('aria-valuenow')).toBe('50');
      expect(text('upload-status')).toContain('50%');
      expect(text('submit-job')).toBe('Uploading…');
      expectNoPost();

      put.flush('');
      await settle();
      expect(byTestId('upload-progress')!.getAttribute('aria-valuenow')).toBe('100');
      const job = httpMock.expectOne((r) => r.method === 'POST' && r.url === '/api/jobs');
      expect(job.request.body).toEqual({
        name: 'Towns',
        type: 'csv-summary',
        payload: { object: KEY },
        ownerId: 'alice',
      });
      job.flush(makeJob({ id: 'csv-1', type: 'csv-summary' }));
      await settle();
      expect(navigate).toHaveBeenCalledWith(['/jobs', 'csv-1']);
    });

    it("shows the API's upload errors under the file input", async () => {
      await chooseFile(new File(['x'], 'huge.csv', { type: 'text/csv' }));
      await type('job-name', 'Huge');
      await submit();
      httpMock
        .expectOne('/api/uploads')
        .flush(
          problem(413, {
            title: 'Content Too Large',
            detail: 'too big',
            errors: [{ field: 'size', message: 'at most 1 GiB' }],
          }),
          { status: 413, statusText: 'Content Too Large' },
        );
      await settle();
      expect(text('error-size')).toBe('File size: at most 1 GiB');
      expect(byTestId('file-field')!.contains(byTestId('error-size'))).toBe(true);
      expect(byTestId('upload-progress')).toBeNull();
      expect(byTestId<HTMLButtonElement>('submit-job')!.disabled).toBe(false);
      expectNoPost();
    });

    it('reuses the uploaded file when only the job submit failed', async () => {
      const file = new File(['a\n1\n'], 'towns.csv', { type: 'text/csv' });
      await chooseFile(file);
      await type('job-name', 'Retry me');
      await submit();
      httpMock.expectOne('/api/uploads').flush(planFor());
      await settle();
      httpMock.expectOne((r) => r.method === 'PUT').flush('');
      await settle();
      httpMock
        .expectOne('/api/jobs')
        .flush(problem(503, { detail: 'queue down' }), { status: 503, statusText: 'x' });
      await settle();
      expect(text('form-error')).toContain('queue down');
      expect(text('upload-status')).toContain('Uploaded');

      await submit();
      httpMock.expectNone('/api/uploads');
      const again = httpMock.expectOne('/api/jobs');
      expect(again.request.body.payload).toEqual({ object: KEY });
      again.flush(makeJob({ id: 'csv-2' }));
      await settle();
      expect(navigate).toHaveBeenCalledWith(['/jobs', 'csv-2']);
    });

    it('goes back to the text payload when the file is cleared', async () => {
      await chooseFile(new File(['x'], 'a.csv', { type: 'text/csv' }));
      byTestId<HTMLButtonElement>('clear-file')!.click();
      await settle();
      expect(byTestId('file-hint')).toBeNull();
      const req = await submitValid();
      expect(req.request.body.payload).toEqual({ csv: 'a,b\n1,2\n' });
      req.flush(makeJob());
    });
  });
});
