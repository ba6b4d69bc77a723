import { InjectionToken } from '@angular/core';
import { AbstractControl, FormControl, FormGroup, Validators } from '@angular/forms';

import { JsonObject } from '../../core/models/job.model';
import { JOB_LIMITS } from '../../core/models/job-type.model';
import {
  integerValidator,
  jsonObjectValidator,
  nameControl,
  parseJsonObject,
  typeControl,
} from './job-form.validators';

export type { FieldMessage } from '../../shared/form-errors/field-errors.component';

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

type SimulateKnob = 'durationSeconds' | 'failureProbability' | 'steps';

interface SimulateForm {
  durationSeconds: FormControl<number | null>;
  failureProbability: FormControl<number | null>;
  steps: FormControl<number | null>;
}

export interface JobForm {
  name: FormControl<string>;
  type: FormControl<string>;
  payload: FormControl<string>;
  simulate: FormGroup<SimulateForm>;
}

const SIMULATE_KNOBS: readonly SimulateKnob[] = ['durationSeconds', 'failureProbability', 'steps'];

/** Fields of `POST /api/uploads` errors, shown under the file input. */
const UPLOAD_FIELDS = ['filename', 'contentType', 'size', 'payload.object'];

/** The form's controls with their validators; the simulate knobs start disabled. */
export function createJobForm(): FormGroup<JobForm> {
  const form = new FormGroup<JobForm>({
    name: nameControl(JOB_LIMITS.nameMaxLength),
    type: typeControl(),
    payload: new FormControl('{}', {
      nonNullable: true,
      validators: [Validators.required, jsonObjectValidator],
    }),
    simulate: new FormGroup<SimulateForm>({
      durationSeconds: new FormControl<number | null>(null, [
        Validators.required,
        Validators.min(JOB_LIMITS.durationSeconds.min),
        Validators.max(JOB_LIMITS.durationSeconds.max),
      ]),
      failureProbability: new FormControl<number | null>(null, [
        Validators.required,
        Validators.min(JOB_LIMITS.failureProbability.min),
        Validators.max(JOB_LIMITS.failureProbability.max),
      ]),
      steps: new FormControl<number | null>(null, [
        Validators.required,
        Validators.min(JOB_LIMITS.steps.min),
        Validators.max(JOB_LIMITS.steps.max),
        integerValidator,
      ]),
    }),
  });
  form.controls.simulate.disable({ emitEvent: false });
  return form;
}

/** The control behind a field, or null for the fields without one (owner, file). */
export function controlFor(
  form: FormGroup<JobForm>,
  field: JobFormField,
): AbstractControl<unknown> | null {
  switch (field) {
    case 'name':
    case 'type':
    case 'payload':
      return form.controls[field];
    case 'durationSeconds':
    case 'failureProbability':
    case 'steps':
      return form.controls.simulate.controls[field];
    case 'ownerId':
    case 'file':
      return null;
  }
}

/** Maps an API field path (`payload.text`) to the field that shows it, or null if unknown. */
export function fieldForPath(
  path: string,
  { hasFile, isSimulate }: { hasFile: boolean; isSimulate: boolean },
): JobFormField | null {
  if (UPLOAD_FIELDS.includes(path) && (path !== 'payload.object' || hasFile)) {
    return 'file';
  }
  if (path === 'name' || path === 'type' || path === 'payload' || path === 'ownerId') {
    return path;
  }
  if (path.startsWith('payload.') || path.startsWith('payload[')) {
    const key = path.slice('payload.'.length);
    const knob = SIMULATE_KNOBS.find((k) => k === key);
    return knob !== undefined && isSimulate ? knob : 'payload';
  }
  return null;
}

/** Sets the simulate knobs from the payload's text (when it parses), without events. */
export function syncKnobsFromPayload(form: FormGroup<JobForm>): void {
  const simulate = form.controls.simulate;
  const payload = parseJsonObject(form.controls.payload.value);
  if (simulate.disabled || payload === null) {
    return;
  }
  for (const knob of SIMULATE_KNOBS) {
    const value = payload[knob];
    if (typeof value === 'number' && simulate.controls[knob].value !== value) {
      simulate.controls[knob].setValue(value, { emitEvent: false });
    }
  }
}

/** Writes the simulate knobs into the payload's text; false when the knobs are off. */
export function syncPayloadFromKnobs(form: FormGroup<JobForm>): boolean {
  const simulate = form.controls.simulate;
  if (simulate.disabled) {
    return false;
  }
  const payload: JsonObject = parseJsonObject(form.controls.payload.value) ?? {};
  for (const knob of SIMULATE_KNOBS) {
    const value = simulate.controls[knob].value;
    if (typeof value === 'number' && Number.isFinite(value)) {
      payload[knob] = value;
    } else {
      delete payload[knob];
    }
  }
  form.controls.payload.setValue(JSON.stringify(payload, null, 2), { emitEvent: false });
  return true;
}
