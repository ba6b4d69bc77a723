import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { AppComponent } from './app.component';
import { OWNER_ID_STORAGE_KEY, OwnerService } from './core/services/owner.service';

describe('AppComponent', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({ imports: [AppComponent], providers: [provideRouter([])] });
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
});
