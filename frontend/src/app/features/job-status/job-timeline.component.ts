import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { DatePipe } from '@angular/common';

import { JobHistoryEntry, JobStatus } from '../../core/models/job.model';
import { formatAbsolute } from '../../shared/relative-time/relative-time';
import { StatusBadgeComponent } from '../../shared/status-badge/status-badge.component';

/** One row of the timeline, with the time elapsed since the first transition. */
export interface TimelineItem {
  status: JobStatus;
  at: string;
  note: string | null;
  elapsed: string;
  dotClass: string;
  /** The absolute time with its zone, shown on hover (issue 15). */
  absolute: string;
}

/** The transitions of a job (`history`), oldest first, with their times. */
@Component({
  selector: 'app-job-timeline',
  imports: [DatePipe, StatusBadgeComponent],
  templateUrl: './job-timeline.component.html',
  styleUrl: './job-timeline.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobTimelineComponent {
  readonly history = input.required<readonly JobHistoryEntry[]>();

  protected readonly items = computed((): TimelineItem[] => {
    const entries = [...this.history()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const start = entries.length > 0 ? Date.parse(entries[0].at) : 0;
    return entries.map((entry) => ({
      status: entry.status,
      at: entry.at,
      note: entry.note,
      elapsed: formatElapsed(Date.parse(entry.at) - start),
      dotClass: `dot dot-${entry.status.toLowerCase()}`,
      absolute: formatAbsolute(Date.parse(entry.at)),
    }));
  });
}

export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) {
    return '';
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `+${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `+${minutes} min ${Math.round(seconds % 60)} s`;
}
