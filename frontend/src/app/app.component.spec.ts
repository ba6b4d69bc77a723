import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { problem } from '../testing/fixtures';
import { AppComponent } from './app.component';
import { apiKeyInterceptor } from './core/interceptors/api-key.interceptor';
import { problemInterceptor } from './core/interceptors/problem.interceptor';
import { API_KEY_STORAGE_KEY } from './core/services/api-key.service';
import { OWNER_ID_STORAGE_KEY, OwnerService } from './core/services/owner.service';

describe('AppComponent', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      imports: [AppComponent],
      providers: [
        provideRouter([]),
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
      ],
    });
  });

  afterEach(() => localStorage.clear());

  it('renders the header with brand and navigation', async () => {
    const fixture = TestBed.createComponent(AppComponent);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelector('.brand')?.textContent).toContain('BatchLab');
    const links = Array.from(el.querySelectorAll('nav a')).map((a) => [a.textContent?.trim(), a.getAttribute('href')]);
    expect(links).toEqual([
      ['New job', '/new'],
      ['New batch', '/batches/new'],
      ['My jobs', '/jobs'],
      ['Queues', '/queues'],
    ]);
  });

  it('remembers the owner typed in the header box in localStorage', async () => {
    const fixture = TestBed.createComponent(AppComponent);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const input = el.querySelector<HTMLInputElement>('[data-testid="owner-id"]')!;
    input.value = 'alice';
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    el.querySelector<HTMLButtonElement>('[data-testid="owner-save"]')!.click();
    await fixture.whenStable();
    expect(localStorage.getItem(OWNER_ID_STORAGE_KEY)).toBe('alice');
    expect(TestBed.inject(OwnerService).ownerId()).toBe('alice');
  });

  it('prefills the header box from localStorage', async () => {
    localStorage.setItem(OWNER_ID_STORAGE_KEY, 'dave');
    const fixture = TestBed.createComponent(AppComponent);
    await fixture.whenStable();
    const input = (fixture.nativeElement as HTMLElement).querySelector<HTMLInputElement>('[data-testid="owner-id"]')!;
    expect(input.value).toBe('dave');
  });

  it('remembers the API key typed in the header box and sends it', async () => {
    const fixture = TestBed.createComponent(AppComponent);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const input = el.querySelector<HTMLInputElement>('[data-testid="api-key"]')!;
    input.value = 'k3y';
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    el.querySelector('form')!.dispatchEvent(new Event('submit'));
    await fixture.whenStable();
    expect(localStorage.getItem(API_KEY_STORAGE_KEY)).toBe('k3y');

    const httpMock = TestBed.inject(HttpTestingController);
    TestBed.inject(HttpClient).get('/api/jobs').subscribe();
    const req = httpMock.expectOne('/api/jobs');
    expect(req.request.headers.get('X-API-Key')).toBe('k3y');
    req.flush({});
    httpMock.verify();
  });

  it('asks for an API key in the header box after a 401', async () => {
    const fixture = TestBed.createComponent(AppComponent);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelector('[data-testid="api-key-required"]')).toBeNull();
    TestBed.inject(HttpClient).get('/api/jobs').subscribe({ error: () => undefined });
    TestBed.inject(HttpTestingController)
      .expectOne('/api/jobs')
      .flush(problem(401), { status: 401, statusText: 'Unauthorized' });
    await fixture.whenStable();
    expect(el.querySelector('[data-testid="api-key-required"]')?.textContent).toContain('needs an API key');
  });
});
