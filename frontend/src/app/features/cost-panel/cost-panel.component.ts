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
  CostReport,
  DesignCostFigures,
  FixedPerHour,
} from '../../core/models/cost.model';
import { ApiError } from '../../core/models/problem.model';
import { CostApiService } from '../../core/services/cost-api.service';
import { PollingService, toOutcome } from '../../core/services/polling.service';

/** Shown for a figure that is unknown (null), e.g. before the first job is counted. */
export const MISSING_FIGURE = '—';

/** One row of "requests": per job (`perJob`) and per hour of the fleet (`fixedPerHour`). */
export interface RequestCostRow {
  key: keyof FixedPerHour;
  label: string;
  perJob: string;
  perHour: string;
}

/** One row of the dollar table; `key` is the `dollarsPerMillionJobs` key. */
export interface DollarCostRow {
  key: keyof CostByService;
  label: string;
  perMillion: string;
  designPerMillion: string;
  monthly: string;
  designMonthly: string;
  perHour: string;
  /** The design model's batched-SQS alternative (SQS row only). */
  designPerMillionBatched: string | null;
  designMonthlyBatched: string | null;
}

/** One AWS call counter, e.g. `sqs.SendMessage`. */
export interface RequestCount {
  call: string;
  count: number;
}

const REQUEST_LABELS: readonly (readonly [keyof FixedPerHour, string])[] = [
  ['sqsRequests', 'SQS requests'],
  ['snsRequests', 'SNS publish requests'],
  ['s3WriteRequests', 'S3 write requests (PUT)'],
  ['s3ReadRequests', 'S3 read requests (GET)'],
  ['dynamodbRequests', 'DynamoDB requests'],
  ['dynamodbWriteRequests', 'DynamoDB write requests'],
  ['dynamodbWriteUnits', 'DynamoDB write capacity units'],
  ['dynamodbReadUnits', 'DynamoDB read capacity units'],
  ['meterWrites', 'Meter snapshot writes'],
];

const DOLLAR_LABELS: readonly (readonly [keyof CostByService, string])[] = [
  ['sqs', 'SQS'],
  ['sns', 'SNS'],
  ['s3', 'S3 requests'],
  ['dynamodbWrites', 'DynamoDB writes'],
  ['dynamodbReads', 'DynamoDB reads'],
  ['total', 'Total'],
];

/**
 * Cost panel (on `/queues`, below the queue panel): what each job costs ($ per million jobs,
 * and per month at 100 jobs/s) apart from what the fleet costs while idle ($ per hour), over
 * the API's window (the last hour), beside the design document's cost model. Polls
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
    const report = this.report();
    return REQUEST_LABELS.map(([key, label]) => ({
      key,
      label,
      perJob:
        key === 'meterWrites'
          ? this.number(0, '1.0-0')
          : this.number(report?.perJob[key] ?? null, '1.0-4'),
      perHour: this.number(report?.fixedPerHour[key] ?? null, '1.0-1'),
    }));
  });

  protected readonly dollarRows = computed((): DollarCostRow[] => {
    const report = this.report();
    const design = report?.designModel;
    const designPerMillion = designFigures(design?.dollarsPerMillionJobs);
    const designMonthly = designFigures(design?.monthly);
    return DOLLAR_LABELS.map(([key, label]) => ({
      key,
      label,
      perMillion: this.dollars(report?.dollarsPerMillionJobs[key] ?? null, '1.2-4'),
      designPerMillion: this.dollars(designPerMillion[key], '1.2-4'),
      monthly: this.dollars(report?.monthlyAtDesignRate[key] ?? null, '1.2-2'),
      designMonthly: this.dollars(designMonthly[key], '1.2-2'),
      perHour: this.dollars(report?.fixedDollarsPerHour[key] ?? null, '1.2-6'),
      designPerMillionBatched:
        key === 'sqs'
          ? this.dollars(design?.dollarsPerMillionJobs.sqsBatched ?? null, '1.2-4')
          : null,
      designMonthlyBatched:
        key === 'sqs' ? this.dollars(design?.monthly.sqsBatched ?? null, '1.2-2') : null,
    }));
  });

  protected readonly totalPerMillion = computed(() =>
    this.dollars(this.report()?.dollarsPerMillionJobs.total ?? null, '1.2-4'),
  );
  protected readonly idlePerHour = computed(() =>
    this.dollars(this.report()?.fixedDollarsPerHour.total ?? null, '1.2-6'),
  );
  protected readonly idlePerMonth = computed(() => {
    const hourly = this.report()?.fixedDollarsPerHour.total ?? null;
    return this.dollars(hourly === null ? null : hourly * 24 * 30, '1.2-2');
  });
  protected readonly windowText = computed(() => {
    const report = this.report();
    if (report === null) {
      return '';
    }
    const minutes = Math.round(report.windowSeconds / 60);
    const covered =
      report.coveredSeconds === null
        ? ''
        : ` (counted for ${this.number(Math.round(report.coveredSeconds / 60), '1.0-0')} min)`;
    return `Over the last ${minutes === 60 ? 'hour' : `${minutes} min`}${covered}`;
  });
  /** Write units computed from item sizes (what AWS bills) beside the backend's own figure. */
  protected readonly unitsText = computed(() => {
    const units = this.report()?.capacityUnits.job;
    if (units === undefined || units.writeComputed === units.writeReported) {
      return '';
    }
    return (
      `DynamoDB write units are computed from the items' sizes, as AWS bills them: ` +
      `${this.number(units.writeComputed, '1.0-1')} for these jobs, where the backend reported ` +
      `${this.number(units.writeReported, '1.0-1')} (a local emulator reports one per write ` +
      `whatever the size).`
    );
  });
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
  protected readonly jobsPerSecond = computed(
    () => this.report()?.designModel.jobsPerSecond ?? 100,
  );
  protected readonly designAssumes = computed(() => this.report()?.designModel.assumes ?? '');
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
      (prices.s3PerMillionWrites === undefined
        ? ''
        : `S3 ${this.dollars(prices.s3PerMillionWrites, '1.2-4')} per million PUTs and ` +
          `${this.dollars(prices.s3PerMillionReads ?? null, '1.2-4')} per million GETs, `) +
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
 * The design document's figures keyed like the measured ones. It models no SNS and no S3; its
 * total is the sum of its unbatched SQS, DynamoDB writes and reads.
 */
function designFigures(
  figures: DesignCostFigures | undefined,
): Record<keyof CostByService, number | null> {
  if (figures === undefined) {
    return {
      sqs: null,
      sns: null,
      s3: null,
      dynamodbWrites: null,
      dynamodbReads: null,
      total: null,
    };
  }
  return {
    sqs: figures.sqs,
    sns: null,
    s3: null,
    dynamodbWrites: figures.dynamodbWrites,
    dynamodbReads: figures.dynamodbReads,
    total:
      Math.round((figures.sqs + figures.dynamodbWrites + figures.dynamodbReads) * 10_000) / 10_000,
  };
}
