import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { routes } from '../../app.routes';

describe('NotFoundPageComponent', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideRouter(routes), provideHttpClient(), provideHttpClientTesting()],
    });
  });

  it('is what an unknown route shows, at the same address (no redirect to /new)', async () => {
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/no/such/page?x=1');
    const el = harness.routeNativeElement!;
    expect(el.querySelector('h1')?.textContent).toBe('Page not found');
    expect(el.querySelector('[data-testid="not-found"]')?.textContent).toContain(
      'There is no page at /no/such/page',
    );
    const links = Array.from(el.querySelectorAll('a')).map((a) => a.getAttribute('href'));
    expect(links).toEqual(['/new', '/jobs']);
    expect(TestBed.inject(Router).url).toBe('/no/such/page?x=1');
    expect(document.title).toBe('Page not found · BatchLab');
  });

  it('still sends the bare root to /new', async () => {
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/');
    expect(TestBed.inject(Router).url).toBe('/new');
  });
});
