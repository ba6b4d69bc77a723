/**
 * Focus moves for people who cannot see the page change: a single-page app neither reloads
 * after a link nor says where a refused form went wrong, so we move focus there ourselves.
 */

const FOCUSABLE_TAGS = /^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/;

/** Focuses `target`, making it focusable first (tabindex -1) if it is not a control. */
export function focusElement(target: HTMLElement): void {
  if (!FOCUSABLE_TAGS.test(target.tagName) && !target.hasAttribute('tabindex')) {
    target.setAttribute('tabindex', '-1');
  }
  target.focus();
}

/** Focuses the page's `h1` inside `container`, or the container when there is no heading. */
export function focusPageHeading(container: HTMLElement): void {
  focusElement(container.querySelector<HTMLElement>('h1') ?? container);
}

/**
 * Focuses the first control marked aria-invalid in `root` (in page order), else the first of
 * `fallbackSelector` (an alert, a message); returns whether anything was focused.
 */
export function focusFirstInvalid(root: HTMLElement, fallbackSelector: string): boolean {
  const target =
    root.querySelector<HTMLElement>('[aria-invalid="true"]') ??
    root.querySelector<HTMLElement>(fallbackSelector);
  if (target !== null) {
    focusElement(target);
  }
  return target !== null;
}
