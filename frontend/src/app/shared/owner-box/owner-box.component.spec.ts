import { ComponentFixture, TestBed } from '@angular/core/testing';

import { OwnerBoxComponent } from './owner-box.component';

describe('OwnerBoxComponent', () => {
  let fixture: ComponentFixture<OwnerBoxComponent>;
  let emitted: string[];

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const input = (): HTMLInputElement => el().querySelector('[data-testid="owner-id"]')!;
  const saveButton = (): HTMLButtonElement => el().querySelector('[data-testid="owner-save"]')!;

  async function typeOwner(value: string): Promise<void> {
    input().value = value;
    input().dispatchEvent(new Event('input'));
    await fixture.whenStable();
  }

  beforeEach(async () => {
    fixture = TestBed.createComponent(OwnerBoxComponent);
    emitted = [];
    fixture.componentInstance.ownerIdChange.subscribe((id) => emitted.push(id));
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
});
