import { formatNumber } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  LOCALE_ID,
  signal,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { takeWhile } from 'rxjs';

import {
  CostByService,
  CostPerJob,
  CostReport,
  SeedCostFigures,
} from '../../core/models/cost.model';
import { ApiError } from '../../core/models/problem.model';
import { CostApiService } from '../../core/services/cost-api.service';
import { PollingService, toOutcome } from '../../core/services/polling.service';

/** Shown for a figure that is unknown (null), e.g. before the first job is counted. */
export const MISSING_FIGURE = '—';

/** One row of "requests per job"; `key` is the `perJob` key. */
export interface RequestCostRow {
  key: keyof CostPerJob;
  label: string;
  perJob: string;
}

/** One row of the dollar table; `key` is the `dollarsPerMillionJobs` key. */
export interface DollarCostRow {
  key: keyof CostByService;
  label: string;
  perMillion: string;
  seedPerMillion: string;
  monthly: string;
  seedMonthly: string;
  /** The seed's batched-SQS alternative (SQS row only). */
  seedPerMillionBatched: string | null;
  seedMonthlyBatched: string | null;
}

/** One AWS call counter, e.g. `sqs.SendMessage`. */
export interface RequestCount {
  call: string;
  count: number;
}

const REQUEST_LABELS: readonly (readonly [keyof CostPerJob, string])[] = [
  ['sqsRequests', 'SQS requests'],
  ['snsRequests', 'SNS publish requests'],
  ['dynamodbRequests', 'DynamoDB requests'],
  ['dynamodbWriteRequests', 'DynamoDB write requests'],
  ['dynamodbWriteUnits', 'DynamoDB write capacity units'],
  ['dynamodbReadUnits', 'DynamoDB read capacity units'],
  ['meterWrites', 'Meter snapshot writes'],
];

const DOLLAR_LABELS: readonly (readonly [keyof CostByService, string])[] = [
  ['sqs', 'SQS'],
  ['sns', 'SNS'],
  ['dynamodbWrites', 'DynamoDB writes'],
  ['dynamodbReads', 'DynamoDB reads'],
  ['total', 'Total'],
];

/**
 * Cost panel (on `/queues`, below the queue panel): AWS requests per job and dollars per
 * million jobs / per month at the seed's rate, beside the seed's cost model. Polls
 * `GET /api/cost`, paused while the tab is hidden. The figures count every tenant's jobs, so
 * with a tenant's API key the API answers 403: the panel then says they are for operators
 * and stops polling.
 */
@Component({
  selector: 'app-cost-panel',
  templateUrl: './cost-panel.component.html',
  styleUrl: './cost-panel.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CostPanelComponent {
  private readonly costApi = inject(CostApiService);
  private readonly polling = inject(PollingService);
  private readonly locale = inject(LOCALE_ID);

  protected readonly report = signal<CostReport | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);
  /** True once the API answered 403: the caller's key is a tenant's, not an operator's. */
  protected readonly operatorOnly = signal(false);
  protected readonly intervalSeconds = this.polling.intervalMs / 1000;

  protected readonly requestRows = computed((): RequestCostRow[] => {
    const perJob = this.report()?.perJob;
    return REQUEST_LABELS.map(([key, label]) => ({
      key,
      label,
      perJob: this.number(perJob?.[key] ?? null, '1.0-4'),
    }));
  });

  protected readonly dollarRows = computed((): DollarCostRow[] => {
    const report = this.report();
    const seed = report?.seedModel;
    const seedPerMillion = seedFigures(seed?.dollarsPerMillionJobs);
    const seedMonthly = seedFigures(seed?.monthly);
    return DOLLAR_LABELS.map(([key, label]) => ({
      key,
      label,
      perMillion: this.dollars(report?.dollarsPerMillionJobs[key] ?? null, '1.2-4'),
      seedPerMillion: this.dollars(seedPerMillion[key], '1.2-4'),
      monthly: this.dollars(report?.monthlyAtSeedRate[key] ?? null, '1.2-2'),
      seedMonthly: this.dollars(seedMonthly[key], '1.2-2'),
      seedPerMillionBatched:
        key === 'sqs'
          ? this.dollars(seed?.dollarsPerMillionJobs.sqsBatched ?? null, '1.2-4')
          : null,
      seedMonthlyBatched:
        key === 'sqs' ? this.dollars(seed?.monthly.sqsBatched ?? null, '1.2-2') : null,
    }));
  });

  protected readonly totalPerMillion = computed(() =>
    this.dollars(this.report()?.dollarsPerMillionJobs.total ?? null, '1.2-4'),
  );
  protected readonly jobsText = computed(() => {
    const report = this.report();
    return report === null
      ? 'Loading…'
      : `${this.number(report.jobsCreated, '1.0-0')} jobs created · ` +
          `${this.number(report.jobsFinished, '1.0-0')} finished`;
  });
  protected readonly processesText = computed(() => {
    const processes = this.report()?.processes ?? null;
    return processes === null
      ? ''
      : `${processes} ${processes === 1 ? 'process' : 'processes'} reporting`;
  });
  protected readonly noJobsYet = computed(() => this.report()?.jobsCreated === 0);
  protected readonly jobsPerSecond = computed(() => this.report()?.seedModel.jobsPerSecond ?? 100);
  protected readonly seedAssumes = computed(() => this.report()?.seedModel.assumes ?? '');
  protected readonly requestCounts = computed((): RequestCount[] =>
    Object.entries(this.report()?.requests ?? {}).map(([call, count]) => ({ call, count })),
  );
  protected readonly pricesText = computed(() => {
    const prices = this.report()?.prices;
    if (prices === undefined) {
      return '';
    }
    return (
      `SQS ${this.dollars(prices.sqsPerMillionRequests, '1.2-4')} per million requests, ` +
      `SNS ${this.dollars(prices.snsPerMillionPublishes, '1.2-4')} per million publishes, ` +
      `DynamoDB ${this.dollars(prices.dynamodbPerMillionWriteUnits, '1.2-4')} per million write units ` +
      `and ${this.dollars(prices.dynamodbPerMillionReadUnits, '1.2-4')} per million read units.`
    );
  });
  protected readonly errorMessage = computed(() => {
    const error = this.loadError();
    if (error === null) {
      return null;
    }
    const reason = error.status === 0 ? 'the server cannot be reached' : error.detail;
    return `Could not refresh the cost figures (${reason}). Retrying every ${this.intervalSeconds} s…`;
  });

  constructor() {
    this.polling
      .pollWhileVisible(() => toOutcome(this.costApi.getCostReport()))
      .pipe(
        takeUntilDestroyed(),
        takeWhile((outcome) => outcome.ok || outcome.error.status !== 403, true),
      )
      .subscribe((outcome) => {
        if (outcome.ok) {
          this.report.set(outcome.value);
          this.loadError.set(null);
        } else if (outcome.error.status === 403) {
          this.operatorOnly.set(true);
        } else {
          this.loadError.set(outcome.error);
        }
      });
  }

  private number(value: number | null, digits: string): string {
    return value === null || !Number.isFinite(value)
      ? MISSING_FIGURE
      : formatNumber(value, this.locale, digits);
  }

  private dollars(value: number | null, digits: string): string {
    const text = this.number(value, digits);
    return text === MISSING_FIGURE ? text : `$${text}`;
  }
}

/**
 * The seed's figures keyed like the measured ones. The seed models no SNS; its total is the
 * sum of its unbatched SQS, DynamoDB writes and reads.
 */
function seedFigures(
  figures: SeedCostFigures | undefined,
): Record<keyof CostByService, number | null> {
  if (figures === undefined) {
    return { sqs: null, sns: null, dynamodbWrites: null, dynamodbReads: null, total: null };
  }
  return {
    sqs: figures.sqs,
    sns: null,
    dynamodbWrites: figures.dynamodbWrites,
    dynamodbReads: figures.dynamodbReads,
    total:
      Math.round((figures.sqs + figures.dynamodbWrites + figures.dynamodbReads) * 10_000) / 10_000,
  };
}
