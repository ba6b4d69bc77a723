/** Relative base URL of the REST API (served by the same origin, or proxied by `ng serve`). */
export const API_BASE_URL = '/api';

/** Default page size of the job list. */
export const DEFAULT_PAGE_SIZE = 20;
