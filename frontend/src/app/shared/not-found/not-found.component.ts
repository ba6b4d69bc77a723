import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { RouterLink } from '@angular/router';

/**
 * What a dead end says (presentational): a message and the ways out (New job, My jobs).
 * The not-found page (unknown routes) and the job status page (unknown or malformed job id)
 * both show it under their own `h1`.
 */
@Component({
  selector: 'app-not-found',
  imports: [RouterLink],
  template: `
    <div class="card not-found" data-testid="not-found">
      <p class="message">{{ message() }}</p>
      <p class="ways-out">
        <a class="btn btn-primary" routerLink="/new">New job</a>
        <a class="btn" routerLink="/jobs">My jobs</a>
      </p>
    </div>
  `,
  styles: `
    .message {
      margin: 0 0 1rem;
      overflow-wrap: anywhere;
    }
    .ways-out {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem;
      margin: 0;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NotFoundComponent {
  readonly message = input.required<string>();
}
