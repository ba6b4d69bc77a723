import { InjectionToken } from '@angular/core';

import { parseJsonObject } from './job-form.validators';

/** Form controls that can carry an error message. */
export type JobFormField =
  | 'name'
  | 'type'
  | 'payload'
  | 'file'
  | 'ownerId'
  | 'durationSeconds'
  | 'failureProbability'
  | 'steps';

/** One message shown under a field; `testId` is `error-<API field path>`. */
export interface FieldMessage {
  testId: string;
  message: string;
}

/** API field path of each control, used for `error-<field>` test ids. */
export const FIELD_PATHS: Readonly<Record<JobFormField, string>> = {
  name: 'name',
  type: 'type',
  payload: 'payload',
  file: 'file',
  ownerId: 'ownerId',
  durationSeconds: 'payload.durationSeconds',
  failureProbability: 'payload.failureProbability',
  steps: 'payload.steps',
};

/**
 * The id of the element holding each field's messages: the field's input points at it with
 * aria-describedby, so a screen reader reads the error with the field (WCAG 3.3.1).
 */
export const ERROR_IDS: Readonly<Record<JobFormField, string>> = {
  name: 'job-name-error',
  type: 'job-type-error',
  payload: 'job-payload-error',
  file: 'csv-file-error',
  ownerId: 'owner-error',
  durationSeconds: 'sim-duration-error',
  failureProbability: 'sim-failure-error',
  steps: 'sim-steps-error',
};

/** What the user sees each API field as (the label on screen), for messages that name it. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  name: 'Name',
  type: 'Type',
  payload: 'Payload',
  ownerId: 'Owner',
  filename: 'File name',
  contentType: 'File type',
  size: 'File size',
  'payload.object': 'CSV file',
  'payload.durationSeconds': 'Duration (s)',
  'payload.failureProbability': 'Failure probability',
  'payload.steps': 'Steps',
};

/** The on-screen name of an API field path: `payload.text` is the payload's field "text". */
export function fieldLabel(path: string): string {
  const known = FIELD_LABELS[path];
  if (known !== undefined) {
    return known;
  }
  if (path.startsWith('payload.') || path.startsWith('payload[')) {
    return `Payload field “${path.replace(/^payload\.?/, '')}”`;
  }
  return path === '' ? 'Request' : `Field “${path}”`;
}

/**
 * A server message that names its field: pydantic says "Field required" under the payload
 * box, which does not say which field is missing (issue 15). A message that already names the
 * field (its label or the path's last part, as a word) is kept as it is.
 */
export function messageNamingField(path: string, message: string): string {
  const label = fieldLabel(path);
  const last =
    path
      .split(/[.[\]]/)
      .filter(Boolean)
      .pop() ?? '';
  const mentions = (word: string): boolean =>
    word !== '' && new RegExp(`\\b${escapeRegExp(word)}\\b`, 'i').test(message);
  if (mentions(last) || mentions(label.replace(/\s*\(.*\)$/, ''))) {
    return message;
  }
  return `${label}: ${message}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Asks the user before the form throws their edits away (a change of type replaces the
 * payload with the new type's example). A token so tests answer it; the browser's own
 * confirm dialog is modal, keyboard- and screen-reader-accessible, and needs no extra code.
 */
export const CONFIRM_DISCARD = new InjectionToken<(message: string) => boolean>('CONFIRM_DISCARD', {
  providedIn: 'root',
  factory: () => (message: string) => window.confirm(message),
});

/** Whether the payload text differs from the example it started as (same JSON is no edit). */
export function payloadEdited(text: string, example: string): boolean {
  const parsed = parseJsonObject(text);
  const original = parseJsonObject(example);
  return parsed !== null && original !== null
    ? JSON.stringify(parsed) !== JSON.stringify(original)
    : text !== example;
}

/** A byte count for people: `512 B`, `1.5 KB`, `20 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
