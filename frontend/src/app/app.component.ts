import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { ApiKeyService } from './core/services/api-key.service';
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
  private readonly apiKeys = inject(ApiKeyService);

  protected readonly ownerId = this.owner.ownerId;
  protected readonly apiKey = this.apiKeys.apiKey;
  protected readonly apiKeyRequired = this.apiKeys.keyRequired;

  protected saveOwnerId(ownerId: string): void {
    this.owner.setOwnerId(ownerId);
  }

  protected saveApiKey(apiKey: string): void {
    this.apiKeys.setApiKey(apiKey);
  }
}
