import {
  afterNextRender,
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  inject,
  Injector,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter } from 'rxjs';

import { focusPageHeading } from './core/a11y/focus';
import { ApiKeyService } from './core/services/api-key.service';
import { OwnerService } from './core/services/owner.service';
import { OwnerBoxComponent } from './shared/owner-box/owner-box.component';

/** The path of a router URL, without its query string and fragment. */
export function pathOf(url: string): string {
  return url.split(/[?#]/, 1)[0];
}

/**
 * The application shell: a skip link, the header with navigation and the owner box, then
 * the routed view.
 *
 * After each navigation to another page, focus moves to the new page's heading: a single-page
 * app never reloads, so without this a screen reader says nothing after a link is followed and
 * keyboard focus stays on the link of a page that is gone (WCAG 2.4.3). The first page load is
 * left alone (the browser starts at the top, where the owner box is), and so is a change of
 * query string only (e.g. a list's filters), where focus belongs in the control being used.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, OwnerBoxComponent],
  templateUrl: './app.component.html',
  styleUrl: './app.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AppComponent {
  private readonly owner = inject(OwnerService);
  private readonly apiKeys = inject(ApiKeyService);
  private readonly router = inject(Router);
  private readonly injector = inject(Injector);
  private readonly main = viewChild.required<ElementRef<HTMLElement>>('main');

  protected readonly ownerId = this.owner.ownerId;
  protected readonly apiKey = this.apiKeys.apiKey;
  protected readonly apiKeyRequired = this.apiKeys.keyRequired;

  constructor() {
    let previousPath: string | null = null;
    this.router.events
      .pipe(
        filter((event): event is NavigationEnd => event instanceof NavigationEnd),
        takeUntilDestroyed(),
      )
      .subscribe((event) => {
        const path = pathOf(event.urlAfterRedirects);
        const moved = previousPath !== null && path !== previousPath;
        previousPath = path;
        if (moved) {
          // After the next render: the new page's template is in the DOM by then.
          afterNextRender(() => focusPageHeading(this.main().nativeElement), {
            injector: this.injector,
          });
        }
      });
  }

  protected saveOwnerId(ownerId: string): void {
    this.owner.setOwnerId(ownerId);
  }

  protected saveApiKey(apiKey: string): void {
    this.apiKeys.setApiKey(apiKey);
  }

  /** The skip link focuses the main region itself: its `#` href would make the router navigate. */
  protected skipToMain(event: Event): void {
    event.preventDefault();
    focusPageHeading(this.main().nativeElement);
  }
}
