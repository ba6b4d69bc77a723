import { ChangeDetectionStrategy, Component, input, signal } from '@angular/core';

/** A small button that copies `text` (a JobId) to the clipboard and says so. */
@Component({
  selector: 'app-copy-button',
  template: `<button
    class="copy-btn"
    type="button"
    data-testid="copy-id"
    [attr.aria-label]="copied() ? 'Copied ' + label() : 'Copy ' + label()"
    [title]="'Copy ' + label()"
    (click)="copy()"
  >
    {{ copied() ? 'Copied' : 'Copy' }}
  </button>`,
  styles: `
    .copy-btn {
      margin-left: 0.4rem;
      padding: 0.1rem 0.45rem;
      border: 1px solid var(--border);
      border-radius: 4px;
      background: var(--surface);
      color: inherit;
      font: inherit;
      font-size: 0.75rem;
      cursor: pointer;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CopyButtonComponent {
  readonly text = input.required<string>();
  /** What is copied, for the accessible name ("Copy JobId"). */
  readonly label = input('JobId');
  protected readonly copied = signal(false);

  protected copy(): void {
    // Clipboard needs a secure context (https or localhost); without it the button does nothing.
    void navigator.clipboard?.writeText(this.text()).then(() => {
      this.copied.set(true);
      setTimeout(() => this.copied.set(false), 2000);
    });
  }
}
