import {
  AbstractControl,
  FormControl,
  ValidationErrors,
  ValidatorFn,
  Validators,
} from '@angular/forms';

import { JsonObject } from '../../core/models/job.model';
import { JOB_LIMITS } from '../../core/models/job-type.model';

/** Parses `text` as JSON and returns it when it is an object (not an array or null). */
export function parseJsonObject(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : null;
  } catch {
    return null;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Size in bytes of `value` serialised as compact UTF-8 JSON. */
export function jsonByteLength(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/**
 * Validates a JSON textarea: `{ json: message }` for a syntax error, `{ jsonObject: true }`
 * for valid JSON that is not an object, `{ tooLarge: { limit, actual } }` past the API's 64 KB.
 */
export const jsonObjectValidator: ValidatorFn = (
  control: AbstractControl<string>,
): ValidationErrors | null => {
  const text = control.value;
  if (typeof text !== 'string' || text.trim() === '') {
    return null; // `required` reports emptiness.
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    return { json: error instanceof Error ? error.message : 'Invalid JSON' };
  }
  if (!isJsonObject(value)) {
    return { jsonObject: true };
  }
  const actual = jsonByteLength(value);
  return actual > JOB_LIMITS.maxBodyBytes
    ? { tooLarge: { limit: JOB_LIMITS.maxBodyBytes, actual } }
    : null;
};

/** `{ blank: true }` when the value is only whitespace (emptiness is left to `required`). */
export const notBlankValidator: ValidatorFn = (
  control: AbstractControl<string>,
): ValidationErrors | null => {
  const value = control.value;
  return typeof value === 'string' && value.length > 0 && value.trim() === ''
    ? { blank: true }
    : null;
};

/** `{ integer: true }` when a number is not whole. */
export const integerValidator: ValidatorFn = (
  control: AbstractControl<number | null>,
): ValidationErrors | null => {
  const value = control.value;
  return typeof value === 'number' && !Number.isInteger(value) ? { integer: true } : null;
};

/** Human-readable message for the first error of a control, or null. */
export function describeErrors(errors: ValidationErrors | null): string | null {
  if (errors === null) {
    return null;
  }
  if (errors['required']) {
    return 'This field is required.';
  }
  if (errors['blank']) {
    return 'This field cannot be only spaces.';
  }
  const maxLength = errors['maxlength'] as { requiredLength: number } | undefined;
  if (maxLength) {
    return `At most ${maxLength.requiredLength} characters.`;
  }
  const minLength = errors['minlength'] as { requiredLength: number } | undefined;
  if (minLength) {
    return `At least ${minLength.requiredLength} characters.`;
  }
  if (errors['pattern']) {
    return 'Only letters, digits and . _ @ - are allowed.';
  }
  const min = errors['min'] as { min: number } | undefined;
  if (min) {
    return `Must be at least ${min.min}.`;
  }
  const max = errors['max'] as { max: number } | undefined;
  if (max) {
    return `Must be at most ${max.max}.`;
  }
  if (errors['integer']) {
    return 'Must be a whole number.';
  }
  if (typeof errors['json'] === 'string') {
    return `Invalid JSON: ${errors['json']}`;
  }
  if (errors['jsonObject']) {
    return 'The payload must be a JSON object, e.g. {"text": "hello"}.';
  }
  const tooLarge = errors['tooLarge'] as { limit: number; actual: number } | undefined;
  if (tooLarge) {
    return `The payload is too large (${Math.ceil(tooLarge.actual / 1024)} KB; the limit is ${tooLarge.limit / 1024} KB).`;
  }
  return 'Invalid value.';
}

/** A submit form's Name control: required, not blank, at most `maxLength` characters. */
export function nameControl(maxLength: number): FormControl<string> {
  return new FormControl('', {
    nonNullable: true,
    validators: [Validators.required, notBlankValidator, Validators.maxLength(maxLength)],
  });
}

/** A submit form's Type control (the job types' select): required. */
export function typeControl(): FormControl<string> {
  return new FormControl('', { nonNullable: true, validators: [Validators.required] });
}
