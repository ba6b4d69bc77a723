import { ParamMap, Params } from '@angular/router';

import { EMPTY_JOB_FILTER, JOB_STATUSES, JobFilter, JobStatus } from '../../core/models/job.model';

/** What the URL of `/jobs` holds (issue 15): the filter and the page, so a link shows the same view. */
export interface ListState {
  filter: JobFilter;
  /** Cursor of the page shown (null = first page). */
  cursor: string | null;
  /** 1-based page number, for display and Previous. */
  page: number;
}

/** Reads the list state from the query parameters, dropping values the API would refuse. */
export function parseListParams(params: ParamMap): ListState {
  const text = (key: string): string | null => {
    const value = params.get(key)?.trim() ?? '';
    return value === '' ? null : value;
  };
  const status = text('status');
  const page = Number(text('page') ?? '1');
  return {
    filter: {
      status: JOB_STATUSES.includes(status as JobStatus) ? (status as JobStatus) : null,
      type: text('type'),
      name: text('name'),
      nameMatch: text('nameMatch') === 'contains' ? 'contains' : 'prefix',
      createdAfter: isoOrNull(text('createdAfter')),
      createdBefore: isoOrNull(text('createdBefore')),
      order: text('order') === 'oldest' ? 'oldest' : 'newest',
    },
    cursor: text('cursor'),
    page: Number.isInteger(page) && page > 1 ? page : 1,
  };
}

/** Query parameters for a state; defaults are left out so the plain `/jobs` stays plain. */
export function toListParams(state: ListState): Params {
  const { filter } = state;
  return {
    status: filter.status,
    type: filter.type,
    name: filter.name,
    nameMatch: filter.name && filter.nameMatch === 'contains' ? 'contains' : null,
    createdAfter: filter.createdAfter,
    createdBefore: filter.createdBefore,
    order: filter.order === 'oldest' ? 'oldest' : null,
    cursor: state.cursor,
    page: state.page > 1 ? state.page : null,
  };
}

/** A stable key of a filter, e.g. to reset paging when it changes. */
export function filterKey(filter: JobFilter): string {
  return JSON.stringify({ ...EMPTY_JOB_FILTER, ...filter });
}

function isoOrNull(value: string | null): string | null {
  return value !== null && !Number.isNaN(Date.parse(value)) ? value : null;
}

/** ISO (UTC) -> the `YYYY-MM-DDTHH:mm` of a datetime-local input, in the browser's zone. */
export function toLocalInput(iso: string | null): string {
  if (iso === null) {
    return '';
  }
  const date = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** A datetime-local value (browser's zone) -> ISO UTC, or null when empty or invalid. */
export function fromLocalInput(local: string): string | null {
  if (local.trim() === '') {
    return null;
  }
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
