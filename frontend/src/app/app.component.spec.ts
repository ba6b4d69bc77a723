import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { problem } from '../testing/fixtures';
import { AppComponent, pathOf } from './app.component';
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
      ['Charts', '/charts'],
      ['DLQ', '/dlq'],
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

@Component({ template: '<h1>Page A</h1><button>go</button>' })
class PageAComponent {}

@Component({ template: '<h1>Page B</h1>' })
class PageBComponent {}

@Component({ template: '<p>no heading</p>' })
class NoHeadingComponent {}

describe('AppComponent focus after navigation', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      imports: [AppComponent],
      providers: [
        provideRouter([
          { path: 'a', component: PageAComponent },
          { path: 'b', component: PageBComponent },
          { path: 'bare', component: NoHeadingComponent },
        ]),
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
      ],
    });
  });

  async function start(): Promise<{ el: HTMLElement; go: (url: string) => Promise<void> }> {
    const fixture = TestBed.createComponent(AppComponent);
    const router = TestBed.inject(Router);
    const go = async (url: string): Promise<void> => {
      await router.navigateByUrl(url);
      await fixture.whenStable();
    };
    await fixture.whenStable();
    return { el: fixture.nativeElement as HTMLElement, go };
  }

  it('leaves focus alone on the first page, then moves it to the new page heading', async () => {
    const { el, go } = await start();
    await go('/a');
    expect(document.activeElement?.textContent).not.toBe('Page A');
    el.querySelector<HTMLButtonElement>('main button')!.focus();

    await go('/b');
    const heading = el.querySelector('main h1')!;
    expect(heading.textContent).toBe('Page B');
    expect(document.activeElement).toBe(heading);
    expect(heading.getAttribute('tabindex')).toBe('-1');
  });

  it('keeps focus where it is when only the query string changes', async () => {
    const { el, go } = await start();
    await go('/a');
    const button = el.querySelector<HTMLButtonElement>('main button')!;
    button.focus();
    await go('/a?status=FAILED');
    expect(document.activeElement).toBe(button);
  });

  it('focuses the main region of a page without a heading', async () => {
    const { el, go } = await start();
    await go('/a');
    await go('/bare');
    expect(document.activeElement).toBe(el.querySelector('main'));
  });

  it('has a skip link that focuses the main content', async () => {
    const { el, go } = await start();
    await go('/a');
    const skip = el.querySelector<HTMLAnchorElement>('a.skip-link')!;
    expect(skip.textContent).toContain('Skip to main content');
    skip.click();
    expect(document.activeElement?.textContent).toBe('Page A');
  });

  it('compares paths without query string or fragment', () => {
    expect(pathOf('/jobs?status=FAILED#x')).toBe('/jobs');
    expect(pathOf('/jobs#x')).toBe('/jobs');
  });
});
