import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { OwnerService } from './core/services/owner.service';
import { OwnerBoxComponent } from './shared/owner-box/owner-box.component';

/** The application shell: header with navigation and the owner box, then the routed view. */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, OwnerBoxComponent],
  templateUrl: './app.component.html',
  styleUrl: './app.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AppComponent {
  private readonly owner = inject(OwnerService);

  protected readonly ownerId = this.owner.ownerId;

  protected saveOwnerId(ownerId: string): void {
    this.owner.setOwnerId(ownerId);
  }
}
