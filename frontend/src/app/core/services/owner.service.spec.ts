import { TestBed } from '@angular/core/testing';

import { isValidOwnerId, OWNER_ID_STORAGE_KEY, OwnerService } from './owner.service';

describe('OwnerService', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => localStorage.clear());

  it('starts empty when nothing is stored', () => {
    expect(TestBed.inject(OwnerService).ownerId()).toBeNull();
  });

  it('persists the owner id in localStorage under batchlab.ownerId', () => {
    const service = TestBed.inject(OwnerService);
    expect(service.setOwnerId('  alice@example.com ')).toBe(true);
    expect(service.ownerId()).toBe('alice@example.com');
    expect(localStorage.getItem(OWNER_ID_STORAGE_KEY)).toBe('alice@example.com');
    expect(OWNER_ID_STORAGE_KEY).toBe('batchlab.ownerId');
  });

  it('reads the remembered owner id on start', () => {
    localStorage.setItem('batchlab.ownerId', 'bob_1');
    expect(TestBed.inject(OwnerService).ownerId()).toBe('bob_1');
  });

  it('ignores an invalid stored value', () => {
    localStorage.setItem('batchlab.ownerId', 'not valid!');
    expect(TestBed.inject(OwnerService).ownerId()).toBeNull();
  });

  it('rejects ids that the API would reject', () => {
    const service = TestBed.inject(OwnerService);
    expect(service.setOwnerId('has space')).toBe(false);
    expect(service.setOwnerId('')).toBe(false);
    expect(service.setOwnerId('x'.repeat(65))).toBe(false);
    expect(service.ownerId()).toBeNull();
    expect(localStorage.getItem(OWNER_ID_STORAGE_KEY)).toBeNull();
  });

  it('clears the owner id', () => {
    const service = TestBed.inject(OwnerService);
    service.setOwnerId('carol');
    service.clearOwnerId();
    expect(service.ownerId()).toBeNull();
    expect(localStorage.getItem(OWNER_ID_STORAGE_KEY)).toBeNull();
  });

  it('validates like the API: 1..64 chars of [A-Za-z0-9._@-]', () => {
    expect(isValidOwnerId('a.b_c@d-e')).toBe(true);
    expect(isValidOwnerId('x'.repeat(64))).toBe(true);
    expect(isValidOwnerId('x'.repeat(65))).toBe(false);
    expect(isValidOwnerId('é')).toBe(false);
  });
});
