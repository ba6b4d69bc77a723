import { ComponentFixture, TestBed } from '@angular/core/testing';

import { OwnerBoxComponent } from './owner-box.component';

describe('OwnerBoxComponent', () => {
  let fixture: ComponentFixture<OwnerBoxComponent>;
  let emitted: string[];
  let emittedKeys: string[];

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const input = (): HTMLInputElement => el().querySelector('[data-testid="owner-id"]')!;
  const saveButton = (): HTMLButtonElement => el().querySelector('[data-testid="owner-save"]')!;
  const keyInput = (): HTMLInputElement => el().querySelector('[data-testid="api-key"]')!;
  const submitForm = (): void => void el().querySelector('form')!.dispatchEvent(new Event('submit'));

  async function typeKey(value: string): Promise<void> {
    keyInput().value = value;
    keyInput().dispatchEvent(new Event('input'));
    await fixture.whenStable();
  }

  async function typeOwner(value: string): Promise<void> {
    input().value = value;
    input().dispatchEvent(new Event('input'));
    await fixture.whenStable();
  }

  beforeEach(async () => {
    fixture = TestBed.createComponent(OwnerBoxComponent);
    emitted = [];
    emittedKeys = [];
    fixture.componentInstance.ownerIdChange.subscribe((id) => emitted.push(id));
    fixture.componentInstance.apiKeyChange.subscribe((key) => emittedKeys.push(key));
    await fixture.whenStable();
  });

  it('shows the current owner id', async () => {
    fixture.componentRef.setInput('ownerId', 'alice');
    await fixture.whenStable();
    expect(input().value).toBe('alice');
    expect(saveButton().disabled).toBe(true);
  });

  it('saves on Enter (form submit)', async () => {
    await typeOwner(' bob ');
    el().querySelector('form')!.dispatchEvent(new Event('submit'));
    expect(emitted).toEqual(['bob']);
  });

  it('saves with the Save button', async () => {
    await typeOwner('carol@example.com');
    expect(saveButton().disabled).toBe(false);
    saveButton().click();
    expect(emitted).toEqual(['carol@example.com']);
  });

  it('refuses ids the API would reject', async () => {
    await typeOwner('not valid!');
    expect(el().querySelector('[data-testid="owner-id-error"]')).not.toBeNull();
    expect(saveButton().disabled).toBe(true);
    el().querySelector('form')!.dispatchEvent(new Event('submit'));
    await typeOwner('x'.repeat(65));
    el().querySelector('form')!.dispatchEvent(new Event('submit'));
    expect(emitted).toEqual([]);
  });

  describe('API key', () => {
    it('is an optional, masked input that starts empty', () => {
      expect(keyInput().type).toBe('password');
      expect(keyInput().value).toBe('');
      expect(saveButton().disabled).toBe(true);
    });

    it('shows the current key', async () => {
      fixture.componentRef.setInput('apiKey', 'k3y');
      await fixture.whenStable();
      expect(keyInput().value).toBe('k3y');
    });

    it('saves on Enter (form submit), without touching a saved owner id', async () => {
      fixture.componentRef.setInput('ownerId', 'alice');
      await fixture.whenStable();
      await typeKey(' k3y ');
      submitForm();
      expect(emittedKeys).toEqual(['k3y']);
      expect(emitted).toEqual([]);
    });

    it('saves with the Save button, together with a new owner id', async () => {
      await typeOwner('bob');
      await typeKey('secret-1');
      saveButton().click();
      expect(emitted).toEqual(['bob']);
      expect(emittedKeys).toEqual(['secret-1']);
    });

    it('clears a saved key when emptied', async () => {
      fixture.componentRef.setInput('apiKey', 'old');
      await fixture.whenStable();
      await typeKey('');
      submitForm();
      expect(emittedKeys).toEqual(['']);
    });

    it('refuses a key that cannot be sent as a header', async () => {
      await typeKey('has space');
      expect(el().querySelector('[data-testid="api-key-error"]')).not.toBeNull();
      expect(saveButton().disabled).toBe(true);
      submitForm();
      expect(emittedKeys).toEqual([]);
    });

    it('asks for a key after a 401', async () => {
      fixture.componentRef.setInput('apiKeyRequired', true);
      await fixture.whenStable();
      expect(el().querySelector('[data-testid="api-key-required"]')?.textContent).toContain('needs an API key');
      expect(keyInput().classList).toContain('invalid');
      await typeKey('k');
      expect(el().querySelector('[data-testid="api-key-required"]')).toBeNull();
    });
  });
});
