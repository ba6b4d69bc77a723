import { IdempotencyKeyTracker, newUuid } from './idempotency-key';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('IdempotencyKeyTracker', () => {
  let counter: number;
  let tracker: IdempotencyKeyTracker;

  beforeEach(() => {
    counter = 0;
    tracker = new IdempotencyKeyTracker(() => `key-${++counter}`);
  });

  it('keeps the key for the same request', () => {
    expect(tracker.keyFor({ name: 'a', payload: { n: 1 } })).toBe('key-1');
    expect(tracker.keyFor({ name: 'a', payload: { n: 1 } })).toBe('key-1');
  });

  it('makes a new key for a different request', () => {
    tracker.keyFor({ name: 'a' });
    expect(tracker.keyFor({ name: 'b' })).toBe('key-2');
    expect(tracker.keyFor({ name: 'a' })).toBe('key-3');
  });

  it('makes a new key after reset (success or edit)', () => {
    tracker.keyFor({ name: 'a' });
    tracker.reset();
    expect(tracker.keyFor({ name: 'a' })).toBe('key-2');
  });

  it('uses random UUIDs by default', () => {
    const real = new IdempotencyKeyTracker();
    const key = real.keyFor({});
    expect(key).toMatch(UUID_V4);
    real.reset();
    expect(real.keyFor({})).not.toBe(key);
  });
});

describe('newUuid', () => {
  afterEach(() => vi.restoreAllMocks());

  it('uses crypto.randomUUID when available', () => {
    const spy = vi.spyOn(crypto, 'randomUUID');
    expect(newUuid()).toMatch(UUID_V4);
    expect(spy).toHaveBeenCalled();
  });

  it('falls back to getRandomValues outside secure contexts', () => {
    Object.defineProperty(crypto, 'randomUUID', { configurable: true, value: undefined });
    const spy = vi.spyOn(crypto, 'getRandomValues');
    try {
      const a = newUuid();
      expect(a).toMatch(UUID_V4);
      expect(newUuid()).not.toBe(a);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      delete (crypto as { randomUUID?: unknown }).randomUUID;
    }
    expect(typeof crypto.randomUUID).toBe('function');
  });
});
