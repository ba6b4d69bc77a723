/** A dead-lettered job as listed by `GET /api/dlq` (operator only). */
export interface DeadLetter {
  jobId: string;
  type: string | null;
  ownerId: string | null;
  lastError: string | null;
  attempts: number | null;
  /** ISO 8601. */
  deadLetteredAt: string | null;
}

export interface DeadLetterList {
  approximateCount: number;
  items: DeadLetter[];
}

/** Answer of the redrive endpoints. */
export interface Redrive {
  moved: number;
  jobIds: string[];
}
