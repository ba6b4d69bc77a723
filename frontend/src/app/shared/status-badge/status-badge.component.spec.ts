import { TestBed } from '@angular/core/testing';

import { JOB_STATUSES } from '../../core/models/job.model';
import { StatusBadgeComponent } from './status-badge.component';

describe('StatusBadgeComponent', () => {
  it.each(JOB_STATUSES)('renders exactly "%s" with its colour class', async (status) => {
    const fixture = TestBed.createComponent(StatusBadgeComponent);
    fixture.componentRef.setInput('status', status);
    await fixture.whenStable();
    const host = fixture.nativeElement as HTMLElement;
    expect(host.textContent).toBe(status);
    expect(host.classList).toContain(`status-${status.toLowerCase()}`);
    expect(host.getAttribute('data-status')).toBe(status);
  });
});
