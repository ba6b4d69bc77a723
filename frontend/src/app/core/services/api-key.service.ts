import { Injectable, Signal, signal } from '@angular/core';

/** localStorage key under which the API key is remembered. */
export const API_KEY_STORAGE_KEY = 'batchlab.apiKey';

/** Longest API key accepted by the header box. */
export const API_KEY_MAX_LENGTH = 256;

/** Visible ASCII only: an HTTP header value cannot carry spaces at the ends, control or non-ASCII characters. */
const API_KEY_PATTERN = /^[\x21-\x7E]+$/;

export function isValidApiKey(value: string): boolean {
  return value.length <= API_KEY_MAX_LENGTH && API_KEY_PATTERN.test(value);
}

/**
 * The optional API key (servers in API-key mode require `X-API-Key` on every `/api`
 * request but `GET /api/job-types`, and derive the owner from a tenant's key). Remembered in localStorage; the API key
 * interceptor sends it while one is stored.
 */
@Injectable({ providedIn: 'root' })
export class ApiKeyService {
  private readonly apiKeyState = signal<string | null>(readStoredApiKey());
  private readonly requiredState = signal(false);

  /** The stored API key, or null when none is set (open mode). */
  readonly apiKey: Signal<string | null> = this.apiKeyState.asReadonly();

  /** True once the server answered 401 (no key, or a rejected one) since the key last changed. */
  readonly keyRequired: Signal<boolean> = this.requiredState.asReadonly();

  /** Stores a key (trimmed); an empty value clears it. Returns false and changes nothing when invalid. */
  setApiKey(value: string): boolean {
    const apiKey = value.trim();
    if (apiKey === '') {
      this.clearApiKey();
      return true;
    }
    if (!isValidApiKey(apiKey)) {
      return false;
    }
    try {
      localStorage.setItem(API_KEY_STORAGE_KEY, apiKey);
    } catch {
      // Storage may be unavailable (private mode); keep the key for this session only.
    }
    this.apiKeyState.set(apiKey);
    this.requiredState.set(false);
    return true;
  }

  clearApiKey(): void {
    try {
      localStorage.removeItem(API_KEY_STORAGE_KEY);
    } catch {
      // Ignore unavailable storage.
    }
    this.apiKeyState.set(null);
    this.requiredState.set(false);
  }

  /** Called by the interceptor when the API answers 401. */
  markKeyRequired(): void {
    this.requiredState.set(true);
  }
}

function readStoredApiKey(): string | null {
  try {
    const stored = localStorage.getItem(API_KEY_STORAGE_KEY);
    return stored !== null && isValidApiKey(stored) ? stored : null;
  } catch {
    return null;
  }
}
