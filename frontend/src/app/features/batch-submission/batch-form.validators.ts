import { AbstractControl, ValidationErrors, ValidatorFn } from '@angular/forms';

import { BATCH_LIMITS, BatchFormat } from '../../core/models/batch.model';
import { JsonObject } from '../../core/models/job.model';
import { isJsonObject, jsonByteLength } from '../job-submission/job-form.validators';

/** Parses the items textarea: a JSON array of 1..1000 objects, or null. */
export function parseItems(text: string): JsonObject[] | null {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.length > 0 && value.every(isJsonObject) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Validates the items textarea: `{ json }` for a syntax error, `{ itemsArray }` when it is not
 * an array, `{ itemsEmpty }`, `{ itemsTooMany: { limit, actual } }`, or `{ itemNotObject: n }`
 * (1-based) for the first element that is not an object, `{ itemsTooLarge }` past the API's
 * body limit. Emptiness is left to `required`.
 */
export const itemsValidator: ValidatorFn = (
  control: AbstractControl<string>,
): ValidationErrors | null => {
  const text = control.value;
  if (typeof text !== 'string' || text.trim() === '') {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    return { json: error instanceof Error ? error.message : 'Invalid JSON' };
  }
  if (!Array.isArray(value)) {
    return { itemsArray: true };
  }
  if (value.length === 0) {
    return { itemsEmpty: true };
  }
  if (value.length > BATCH_LIMITS.maxInlineItems) {
    return { itemsTooMany: { limit: BATCH_LIMITS.maxInlineItems, actual: value.length } };
  }
  const notObject = value.findIndex((item) => !isJsonObject(item));
  if (notObject >= 0) {
    return { itemNotObject: notObject + 1 };
  }
  const actual = jsonByteLength(value);
  return actual > BATCH_LIMITS.maxBodyBytes
    ? { itemsTooLarge: { limit: BATCH_LIMITS.maxBodyBytes, actual } }
    : null;
};

/** `{ url: true }` unless the value is empty or an http(s) URL. */
export const webhookUrlValidator: ValidatorFn = (
  control: AbstractControl<string>,
): ValidationErrors | null => {
  const text = (control.value ?? '').trim();
  if (text === '') {
    return null;
  }
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? null : { url: true };
  } catch {
    return { url: true };
  }
};

/** Messages of the batch-only errors above; null for the others (see `describeErrors`). */
export function describeBatchErrors(errors: ValidationErrors | null): string | null {
  if (errors === null) {
    return null;
  }
  if (typeof errors['json'] === 'string') {
    return `Invalid JSON: ${errors['json']}`;
  }
  if (errors['itemsArray']) {
    return 'The items must be a JSON array of payloads, e.g. [{"text": "a"}, {"text": "b"}].';
  }
  if (errors['itemsEmpty']) {
    return 'Give at least one item.';
  }
  const tooMany = errors['itemsTooMany'] as { limit: number; actual: number } | undefined;
  if (tooMany) {
    return `${tooMany.actual} items: at most ${tooMany.limit} inline; upload a JSONL or CSV file for more.`;
  }
  const tooLarge = errors['itemsTooLarge'] as { limit: number; actual: number } | undefined;
  if (tooLarge) {
    return `The items take ${Math.ceil(tooLarge.actual / 1024)} KB; more than ${tooLarge.limit / 1024} KB must be uploaded as a file.`;
  }
  if (typeof errors['itemNotObject'] === 'number') {
    return `Item ${errors['itemNotObject']} is not a JSON object.`;
  }
  if (errors['url']) {
    return 'Must be an http:// or https:// URL.';
  }
  return null;
}

/** The format a file's name suggests (`.csv` -> csv, anything else JSON Lines). */
export function formatOf(fileName: string): BatchFormat {
  return fileName.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl';
}

/** The example items put in the textarea for a type: its example, one object per line. */
export function exampleItems(example: JsonObject, count = 3): string {
  const line = JSON.stringify(example);
  return `[\n${Array.from({ length: count }, () => `  ${line}`).join(',\n')}\n]`;
}
