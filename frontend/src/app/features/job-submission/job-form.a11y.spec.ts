import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { JOB_TYPES, problem } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { JobFormComponent } from './job-form.component';
import { fieldLabel, messageNamingField } from './job-form.fields';

/** Issue 15: errors tied to their fields, focus on the first error, messages that name the
 * field, and a question before a change of type discards an edited payload. */
describe('JobFormComponent accessibility and messages', () => {
  let fixture: ComponentFixture<JobFormComponent>;
  let httpMock: HttpTestingController;
  let confirm: ReturnType<typeof vi.spyOn>;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T =>
    el().querySelector<T>(`[data-testid="${id}"]`)!;
  const settle = (): Promise<void> => fixture.whenStable();
  const payloadText = (): string => byTestId<HTMLTextAreaElement>('job-payload').value;

  async function type(id: string, value: string): Promise<void> {
    const input = byTestId<HTMLInputElement | HTMLTextAreaElement>(id);
    input.value = value;
    input.dispatchEvent(new Event('input'));
    await settle();
  }

  async function select(value: string): Promise<void> {
    const element = byTestId<HTMLSelectElement>('job-type');
    element.value = value;
    element.dispatchEvent(new Event('change'));
    await settle();
  }

  async function submit(): Promise<void> {
    byTestId<HTMLButtonElement>('submit-job').click();
    await settle();
  }

  async function answer422(errors: { field: string; message: string }[]): Promise<void> {
    await type('job-name', 'My job');
    await submit();
    httpMock
      .expectOne((req) => req.method === 'POST')
      .flush(problem(422, { errors }), { status: 422, statusText: 'Unprocessable Entity' });
    await settle();
  }

  /** The text of the elements an input's aria-describedby points at. */
  function description(id: string): string {
    const ids = (byTestId(id).getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
    return ids
      .map((ref) => document.getElementById(ref)?.textContent?.trim() ?? `#${ref}?`)
      .join(' | ');
  }

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [JobFormComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    localStorage.setItem('batchlab.ownerId', 'alice');
    fixture = TestBed.createComponent(JobFormComponent);
    await settle();
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    localStorage.clear();
    confirm.mockRestore();
  });

  describe('errors tied to their fields', () => {
    it('marks a client-side error with aria-invalid and describes the field with it', async () => {
      expect(byTestId('job-name').getAttribute('aria-invalid')).toBe('false');
      expect(description('job-name')).toBe('0/100 characters');
      await submit();
      expect(byTestId('job-name').getAttribute('aria-invalid')).toBe('true');
      expect(description('job-name')).toBe('This field is required. | 0/100 characters');
      expect(byTestId('job-payload').getAttribute('aria-invalid')).toBe('false');
      expect(byTestId('job-payload').getAttribute('aria-describedby')).toBeNull();
    });

    it('ties the simulate knobs to their range hints and errors', async () => {
      await select('simulate');
      expect(description('sim-steps')).toBe('1–100, whole number');
      await type('sim-steps', '0');
      await submit();
      expect(byTestId('sim-steps').getAttribute('aria-invalid')).toBe('true');
      expect(description('sim-steps')).toBe('Must be at least 1. | 1–100, whole number');
    });

    it('ties server errors to their fields', async () => {
      await answer422([
        { field: 'payload.text', message: 'Field required' },
        { field: 'type', message: 'unknown type' },
      ]);
      expect(byTestId('job-payload').getAttribute('aria-invalid')).toBe('true');
      expect(description('job-payload')).toBe('Payload field “text”: Field required');
      expect(byTestId('job-type').getAttribute('aria-invalid')).toBe('true');
      expect(description('job-type')).toBe('unknown type');
      expect(byTestId('job-name').getAttribute('aria-invalid')).toBe('false');
    });
  });

  describe('focus on submit', () => {
    it('moves to the first field in error, in page order', async () => {
      await type('job-payload', '{not json');
      await submit();
      expect(document.activeElement).toBe(byTestId('job-name'));
      await type('job-name', 'named');
      await submit();
      expect(document.activeElement).toBe(byTestId('job-payload'));
      httpMock.expectNone((req) => req.method === 'POST');
    });

    it('moves to the field the server blamed', async () => {
      await answer422([{ field: 'payload.text', message: 'Field required' }]);
      expect(document.activeElement).toBe(byTestId('job-payload'));
    });

    it('moves to the alert when no field is to blame', async () => {
      await type('job-name', 'My job');
      await submit();
      httpMock
        .expectOne((req) => req.method === 'POST')
        .flush(problem(503, { detail: 'queue down' }), { status: 503, statusText: 'x' });
      await settle();
      expect(document.activeElement).toBe(byTestId('form-error'));
      expect(byTestId('form-error').textContent).toContain('queue down');
    });
  });

  describe('server messages name the field', () => {
    it('prefixes a message that does not name its field with the field label', async () => {
      await answer422([
        { field: 'name', message: 'Field required' },
        { field: 'payload.text', message: 'Field required' },
      ]);
      expect(byTestId('error-name').textContent?.trim()).toBe('Name: Field required');
      expect(byTestId('error-payload.text').textContent?.trim()).toBe(
        'Payload field “text”: Field required',
      );
    });

    it('keeps a message that already names its field', () => {
      expect(messageNamingField('name', 'name: Field required')).toBe('name: Field required');
      expect(messageNamingField('payload.text', "'text' is required")).toBe("'text' is required");
      expect(messageNamingField('ownerId', 'Owner id is missing')).toBe('Owner id is missing');
      expect(messageNamingField('payload.durationSeconds', 'too long')).toBe(
        'Duration (s): too long',
      );
      expect(messageNamingField('payload.rows[2].x', 'bad')).toBe('Payload field “rows[2].x”: bad');
    });

    it('labels fields as the form shows them', () => {
      expect(fieldLabel('payload')).toBe('Payload');
      expect(fieldLabel('size')).toBe('File size');
      expect(fieldLabel('payload.csv')).toBe('Payload field “csv”');
      expect(fieldLabel('cursor')).toBe('Field “cursor”');
    });
  });

  describe('changing the type', () => {
    it('does not ask while the payload is the example', async () => {
      await select('sha256');
      expect(confirm).not.toHaveBeenCalled();
      expect(JSON.parse(payloadText())).toEqual({ text: 'abc' });
      // Reformatting the same JSON is not an edit either.
      await type('job-payload', '{"text":"abc"}');
      await select('text-stats');
      expect(confirm).not.toHaveBeenCalled();
    });

    it('asks before discarding an edited payload, and keeps it all when told no', async () => {
      await type('job-payload', '{"text": "my own words"}');
      await select('sha256');
      expect(confirm).toHaveBeenCalledTimes(1);
      expect(confirm.mock.calls[0][0]).toBe(
        'Switch to sha256? This replaces your edited payload with the sha256 example.',
      );
      expect(byTestId<HTMLSelectElement>('job-type').value).toBe('text-stats');
      expect(payloadText()).toBe('{"text": "my own words"}');
      expect(byTestId('job-type-description').textContent).toContain('Counts words');
    });

    it('replaces the payload with the new example when told yes', async () => {
      confirm.mockReturnValue(true);
      await type('job-payload', '{"text": "my own words"}');
      await select('simulate');
      expect(confirm).toHaveBeenCalledTimes(1);
      expect(byTestId<HTMLSelectElement>('job-type').value).toBe('simulate');
      expect(JSON.parse(payloadText())).toEqual(JOB_TYPES[3].example);
      // The new example is the new baseline: switching back asks nothing.
      await select('text-stats');
      expect(confirm).toHaveBeenCalledTimes(1);
    });

    it('counts a simulate knob change as an edit', async () => {
      await select('simulate');
      await type('sim-steps', '7');
      await select('sha256');
      expect(confirm).toHaveBeenCalledTimes(1);
      expect(byTestId<HTMLSelectElement>('job-type').value).toBe('simulate');
      expect(JSON.parse(payloadText())).toMatchObject({ steps: 7 });
    });
  });
});
