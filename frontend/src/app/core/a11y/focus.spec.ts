import { focusFirstInvalid, focusPageHeading } from './focus';

describe('focus helpers', () => {
  let root: HTMLElement;

  beforeEach(() => {
    root = document.createElement('main');
    document.body.appendChild(root);
  });

  afterEach(() => root.remove());

  it('focuses the h1, made focusable without entering the tab order', () => {
    root.innerHTML = '<p>intro</p><h1>Title</h1>';
    focusPageHeading(root);
    const h1 = root.querySelector('h1')!;
    expect(document.activeElement).toBe(h1);
    expect(h1.getAttribute('tabindex')).toBe('-1');
  });

  it('focuses the container of a page without a heading', () => {
    root.innerHTML = '<p>no heading</p>';
    focusPageHeading(root);
    expect(document.activeElement).toBe(root);
  });

  it('focuses the first invalid control in page order, else the fallback, else nothing', () => {
    root.innerHTML =
      '<div role="alert" class="oops">x</div><input id="a" aria-invalid="false">' +
      '<textarea id="b" aria-invalid="true"></textarea><input id="c" aria-invalid="true">';
    expect(focusFirstInvalid(root, '.oops')).toBe(true);
    expect(document.activeElement?.id).toBe('b');
    expect(root.querySelector('#b')!.hasAttribute('tabindex')).toBe(false);

    root.querySelectorAll('[aria-invalid]').forEach((e) => e.setAttribute('aria-invalid', 'false'));
    expect(focusFirstInvalid(root, '.oops')).toBe(true);
    expect(document.activeElement).toBe(root.querySelector('.oops'));

    expect(focusFirstInvalid(root, '.none')).toBe(false);
  });
});
