import { TestBed } from '@angular/core/testing';

import { API_KEY_STORAGE_KEY, ApiKeyService, isValidApiKey } from './api-key.service';

describe('ApiKeyService', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => localStorage.clear());

  it('starts without a key when nothing is stored', () => {
    expect(TestBed.inject(ApiKeyService).apiKey()).toBeNull();
  });

  it('persists the key in localStorage under batchlab.apiKey', () => {
    const service = TestBed.inject(ApiKeyService);
    expect(service.setApiKey('  k3y-secret ')).toBe(true);
    expect(service.apiKey()).toBe('k3y-secret');
    expect(localStorage.getItem(API_KEY_STORAGE_KEY)).toBe('k3y-secret');
    expect(API_KEY_STORAGE_KEY).toBe('batchlab.apiKey');
  });

  it('reads the remembered key on start', () => {
    localStorage.setItem('batchlab.apiKey', 'stored-key');
    expect(TestBed.inject(ApiKeyService).apiKey()).toBe('stored-key');
  });

  it('clears the key when saved empty', () => {
    const service = TestBed.inject(ApiKeyService);
    service.setApiKey('abc');
    expect(service.setApiKey('   ')).toBe(true);
    expect(service.apiKey()).toBeNull();
    expect(localStorage.getItem(API_KEY_STORAGE_KEY)).toBeNull();
  });

  it('rejects keys that cannot be sent as a header value', () => {
    const service = TestBed.inject(ApiKeyService);
    expect(service.setApiKey('has space')).toBe(false);
    expect(service.setApiKey('clé')).toBe(false);
    expect(service.setApiKey('x'.repeat(257))).toBe(false);
    expect(service.apiKey()).toBeNull();
    expect(isValidApiKey('x'.repeat(256))).toBe(true);
  });

  it('tracks a 401 until the key changes', () => {
    const service = TestBed.inject(ApiKeyService);
    service.markKeyRequired();
    expect(service.keyRequired()).toBe(true);
    service.setApiKey('new-key');
    expect(service.keyRequired()).toBe(false);
  });
});
