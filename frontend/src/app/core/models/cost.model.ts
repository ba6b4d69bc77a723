/**
 * What each job costs: AWS requests and DynamoDB capacity units per created job, counting only
 * the requests that carry a job (its item, message, events, data). Null while no job was counted.
 */
export interface CostPerJob {
  sqsRequests: number | null;
  snsRequests: number | null;
  s3WriteRequests: number | null;
  s3ReadRequests: number | null;
  dynamodbRequests: number | null;
  dynamodbWriteRequests: number | null;
  dynamodbWriteUnits: number | null;
  dynamodbReadUnits: number | null;
}

/**
 * What the fleet costs whatever the jobs, per hour: empty long polls, heartbeats, remote
 * control, meter writes, set-up calls. Null before any process reported.
 */
export interface FixedPerHour extends CostPerJob {
  meterWrites: number | null;
}

/** Dollars per service and in total (per million jobs, per hour or per month); null when unknown. */
export interface CostByService {
  sqs: number | null;
  sns: number | null;
  s3?: number | null;
  dynamodbWrites: number | null;
  dynamodbReads: number | null;
  total: number | null;
}

/** The design document's cost figures (it models no SNS, no S3 and no total). */
export interface DesignCostFigures {
  sqs: number;
  sqsBatched: number;
  dynamodbWrites: number;
  dynamodbReads: number;
}

/** The design document's cost model (§11), for comparison with the measured figures. */
export interface DesignCostModel {
  name: string;
  jobsPerSecond: number;
  /** $ per month at `jobsPerSecond`. */
  monthly: DesignCostFigures;
  dollarsPerMillionJobs: DesignCostFigures;
  assumes: string;
}

/** DynamoDB capacity units of one class: as the backend reported them, as computed from item
 * sizes (what AWS bills), and the ones priced. */
export interface CapacityUnitFigures {
  writeReported: number;
  writeComputed: number;
  writeBilled: number;
  readReported: number;
  readComputed: number;
  readBilled: number;
}

export interface CapacityUnits {
  /** `auto` (computed unless the endpoint is AWS), `computed` or `reported`. */
  priced: string;
  job: CapacityUnitFigures;
  fixed: CapacityUnitFigures;
}

/** Unit prices the API computes with (USD). */
export interface CostPrices {
  sqsPerMillionRequests: number;
  snsPerMillionPublishes: number;
  s3PerMillionWrites?: number;
  s3PerMillionReads?: number;
  dynamodbPerMillionWriteUnits: number;
  dynamodbPerMillionReadUnits: number;
}

/** Response of `GET /api/cost`: every process's AWS request meter over the last `windowSeconds`. */
export interface CostReport {
  windowSeconds: number;
  /** The part of the window the meters cover (from the oldest minute counted to now). */
  coveredSeconds: number | null;
  /** Processes whose meter is counted, and how many of each role. */
  processes: number;
  roles: Record<string, number>;
  jobsCreated: number;
  jobsFinished: number;
  /** AWS calls by `service.Operation`, e.g. `sqs.SendMessage`. */
  requests: Record<string, number>;
  perJob: CostPerJob;
  dollarsPerMillionJobs: CostByService;
  fixedPerHour: FixedPerHour;
  fixedDollarsPerHour: CostByService;
  fixedRequests: Record<string, number>;
  capacityUnits: CapacityUnits;
  /** $ per month for the jobs at the design document's rate (100 jobs/s). */
  monthlyAtDesignRate: CostByService;
  designModel: DesignCostModel;
  prices: CostPrices;
}
