import { Injectable, Signal, signal } from '@angular/core';

import { JOB_LIMITS } from '../models/job-type.model';

/** localStorage key under which the owner id is remembered. */
export const OWNER_ID_STORAGE_KEY = 'batchlab.ownerId';

export function isValidOwnerId(value: string): boolean {
  return value.length <= JOB_LIMITS.ownerIdMaxLength && JOB_LIMITS.ownerIdPattern.test(value);
}

/**
 * "Who am I" until authentication exists: the owner id typed in the header,
 * remembered in localStorage and sent as `ownerId` on submit and list.
 */
@Injectable({ providedIn: 'root' })
export class OwnerService {
  private readonly ownerIdState = signal<string | null>(readStoredOwnerId());

  /** The current owner id, or null when the user has not said who they are. */
  readonly ownerId: Signal<string | null> = this.ownerIdState.asReadonly();

  /** Stores a valid owner id (trimmed); returns false and changes nothing when it is invalid. */
  setOwnerId(value: string): boolean {
    const ownerId = value.trim();
    if (!isValidOwnerId(ownerId)) {
      return false;
    }
    try {
      localStorage.setItem(OWNER_ID_STORAGE_KEY, ownerId);
    } catch {
      // Storage may be unavailable (private mode); keep the id for this session only.
    }
    this.ownerIdState.set(ownerId);
    return true;
  }

  clearOwnerId(): void {
    try {
      localStorage.removeItem(OWNER_ID_STORAGE_KEY);
    } catch {
      // Ignore unavailable storage.
    }
    this.ownerIdState.set(null);
  }
}

function readStoredOwnerId(): string | null {
  try {
    const stored = localStorage.getItem(OWNER_ID_STORAGE_KEY);
    return stored !== null && isValidOwnerId(stored) ? stored : null;
  } catch {
    return null;
  }
}
