import { ChangeDetectionStrategy, Component, input } from '@angular/core';

import { InvalidItem } from '../../core/models/batch.model';

/**
 * A batch's items refused by its type's schema, by line, each with its field errors: shown by
 * the batch form after a submit and by the batch page (`data-testid="invalid-items"`).
 */
@Component({
  selector: 'app-invalid-items',
  template: `
    <ul class="invalid-list" data-testid="invalid-items">
      @for (item of items(); track item.index) {
        <li data-testid="invalid-item" [attr.data-line]="item.line">
          <strong>Line {{ item.line }}</strong
          >:
          @for (e of item.errors; track $index) {
            <span class="invalid-error">
              @if (e.field) {
                <code>{{ e.field }}</code>
              }
              {{ e.message }}</span
            >
          }
        </li>
      }
    </ul>
  `,
  styles: `
    :host {
      display: block;
    }
    .invalid-list {
      max-height: 18rem;
      overflow: auto;
      margin: 0;
      padding: 0;
      list-style: none;
    }
    .invalid-list li {
      padding: 0.35rem 0;
      border-bottom: 1px solid var(--border);
      overflow-wrap: anywhere;
    }
    .invalid-error + .invalid-error::before {
      content: '; ';
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class InvalidItemsComponent {
  readonly items = input.required<readonly InvalidItem[]>();
}
