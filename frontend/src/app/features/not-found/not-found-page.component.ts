import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { ActivatedRoute } from '@angular/router';

import { NotFoundComponent } from '../../shared/not-found/not-found.component';

/**
 * The page for any path the app has no route for. It used to redirect to /new, which hid a
 * mistyped or stale link; now the address stays and the page says what happened.
 */
@Component({
  selector: 'app-not-found-page',
  imports: [NotFoundComponent],
  template: `
    <div class="page-header">
      <h1>Page not found</h1>
    </div>
    <app-not-found [message]="message" />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NotFoundPageComponent {
  private readonly path = inject(ActivatedRoute)
    .snapshot.url.map((segment) => segment.path)
    .join('/');
  protected readonly message = `There is no page at /${this.path}. Check the address, or go on from here:`;
}
