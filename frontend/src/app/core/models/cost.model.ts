/** AWS requests (and DynamoDB capacity units) per created job; null while no job was counted. */
export interface CostPerJob {
  sqsRequests: number | null;
  snsRequests: number | null;
  dynamodbRequests: number | null;
  dynamodbWriteRequests: number | null;
  dynamodbWriteUnits: number | null;
  dynamodbReadUnits: number | null;
  meterWrites: number | null;
}

/** Dollars per service and in total (per million jobs, or per month); null when unknown. */
export interface CostByService {
  sqs: number | null;
  sns: number | null;
  dynamodbWrites: number | null;
  dynamodbReads: number | null;
  total: number | null;
}

/** The seed's cost figures (it models no SNS and no total). */
export interface SeedCostFigures {
  sqs: number;
  sqsBatched: number;
  dynamodbWrites: number;
  dynamodbReads: number;
}

/** The seed's cost model, for comparison with the measured figures. */
export interface SeedCostModel {
  jobsPerSecond: number;
  /** $ per month at `jobsPerSecond`. */
  monthly: SeedCostFigures;
  dollarsPerMillionJobs: SeedCostFigures;
  assumes: string;
}

/** Unit prices the API computes with (USD). */
export interface CostPrices {
  sqsPerMillionRequests: number;
  snsPerMillionPublishes: number;
  dynamodbPerMillionWriteUnits: number;
  dynamodbPerMillionReadUnits: number;
}

/** Response of `GET /api/cost`, summed over every API and worker process's AWS request meter. */
export interface CostReport {
  /** Processes whose meter snapshot is counted. */
  processes: number;
  jobsCreated: number;
  jobsFinished: number;
  /** AWS calls by `service.Operation`, e.g. `sqs.SendMessage`. */
  requests: Record<string, number>;
  perJob: CostPerJob;
  dollarsPerMillionJobs: CostByService;
  /** $ per month at the seed's rate (`seedModel.jobsPerSecond`, 100 jobs/s). */
  monthlyAtSeedRate: CostByService;
  seedModel: SeedCostModel;
  prices: CostPrices;
}
