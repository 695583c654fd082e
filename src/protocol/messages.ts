// TypeScript shapes of the messages in proto/distbuild.proto, as protobufjs decodes them.
//
// Decoding fills defaults, so every scalar and repeated field is present. Enums are
// their proto names; oneofs carry a `msg` discriminant naming the field that is set.
// test/protocol.test.ts round-trips every message to keep these in step with the proto.

export type ProtocolVersion = 'PROTOCOL_VERSION_UNSPECIFIED' | 'PROTOCOL_VERSION_1';
export const PROTOCOL_VERSION: ProtocolVersion = 'PROTOCOL_VERSION_1';

export type JobKind = 'JOB_KIND_UNSPECIFIED' | 'JOB_KIND_COMPILE' | 'JOB_KIND_LINK';

export type Outcome = 'OUTCOME_UNSPECIFIED' | 'OUTCOME_COMPLETED' | 'OUTCOME_REJECTED' | 'OUTCOME_FAILED';

export type FailureKind =
  | 'FAILURE_KIND_UNSPECIFIED'
  | 'FAILURE_KIND_WORKER_LOST'
  | 'FAILURE_KIND_KILLED'
  | 'FAILURE_KIND_SPAWN_FAILED'
  | 'FAILURE_KIND_JOB_TIMEOUT'
  | 'FAILURE_KIND_INVALID_JOB'
  | 'FAILURE_KIND_QUEUE_TIMEOUT'
  | 'FAILURE_KIND_NO_ELIGIBLE_WORKER'
  | 'FAILURE_KIND_CANCELLED'
  | 'FAILURE_KIND_PUBLISH_FAILED';

export type WorkerStateName = 'WORKER_STATE_UNSPECIFIED' | 'WORKER_STATE_RUNNING' | 'WORKER_STATE_DRAINING';

export interface Job {
  id: string;
  kind: JobKind;
  argv: string[];
  cwd: string;
  clientMount: string;
  env: Record<string, string>;
  dirs: string[];
  timeoutMs: number;
  client: string;
  outputs: string[];
}

export interface SubmitJobsRequest {
  jobs: Job[];
  protocolVersion: ProtocolVersion;
}

export interface Accepted {
  jobIds: string[];
}

export interface OutputFile {
  path: string;
  sizeBytes: number;
}

export interface AttemptFailure {
  worker: string;
  failure: FailureKind;
  message: string;
}

export interface JobResult {
  jobId: string;
  outcome: Outcome;
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  durationMs: number;
  worker: string;
  outputs: OutputFile[];
  failure: FailureKind;
  message: string;
  attempts: AttemptFailure[];
  queuedMs: number;
  outputTruncated: boolean;
}

export type SubmitJobsResponse =
  | { msg: 'accepted'; accepted: Accepted }
  | { msg: 'result'; result: JobResult };

export interface CancelJobs {
  jobIds: string[];
}

export type JobsRequest =
  | { msg: 'submit'; submit: SubmitJobsRequest }
  | { msg: 'cancel'; cancel: CancelJobs };

export interface Refused {
  jobIds: string[];
  code: number;
  message: string;
}

export type JobsResponse =
  | { msg: 'result'; result: JobResult }
  | { msg: 'refused'; refused: Refused }
  | { msg: 'batch'; batch: JobsResponses };

export interface JobsResponses {
  messages: JobsResponse[];
}

export interface Compiler {
  path: string;
  name: string;
  version: string;
}

export interface RegisterWorker {
  name: string;
  maxJobs: number;
  canLink: boolean;
  compilers: Compiler[];
  memoryTotalBytes: number;
  memoryFreeBytes: number;
  fsMount: string;
  version: string;
  protocolVersion: ProtocolVersion;
  hostname: string;
  runningAttempts: string[];
  acceptsBatches: boolean;
}

export interface AttemptResult {
  attemptId: string;
  jobId: string;
  outcome: Outcome;
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  durationMs: number;
  outputs: OutputFile[];
  failure: FailureKind;
  message: string;
  outputTruncated: boolean;
  memoryFreeBytes: number;
  staged: boolean;
}

export interface RenewLeases {
  attemptIds: string[];
}

export interface DirReport {
  full: boolean;
  dirs: string[];
  removed: string[];
}

export interface WorkerUpdate {
  state: WorkerStateName;
  maxJobs: number;
}

export type WorkerMessage =
  | { msg: 'register'; register: RegisterWorker }
  | { msg: 'result'; result: AttemptResult }
  | { msg: 'renew'; renew: RenewLeases }
  | { msg: 'dirs'; dirs: DirReport }
  | { msg: 'update'; update: WorkerUpdate }
  | { msg: 'batch'; batch: WorkerMessages };

export interface WorkerMessages {
  messages: WorkerMessage[];
}

export interface Registered {
  workerId: string;
  leaseMs: number;
  protocolVersion: ProtocolVersion;
  acceptsBatches: boolean;
}

export interface Assignment {
  job: Job;
  attemptId: string;
  attempt: number;
  timeoutMs: number;
}

export interface CancelAttempt {
  attemptId: string;
  reason: string;
}

export interface CommitAttempt {
  attemptId: string;
  publish: boolean;
  leaseRemainingMs: number;
}

export type ServerMessage =
  | { msg: 'registered'; registered: Registered }
  | { msg: 'assign'; assign: Assignment }
  | { msg: 'cancel'; cancel: CancelAttempt }
  | { msg: 'commit'; commit: CommitAttempt }
  | { msg: 'batch'; batch: ServerMessages };

export interface ServerMessages {
  messages: ServerMessage[];
}

export type StatusRequest = Record<string, never>;

export interface WorkerStatus {
  id: string;
  name: string;
  address: string;
  state: string;
  running: number;
  maxJobs: number;
  canLink: boolean;
  completed: number;
  failed: number;
  compiles: number;
  links: number;
  compilers: Compiler[];
  memoryTotalBytes: number;
  memoryFreeBytes: number;
  connectedMs: number;
  hostname: string;
  circuit: string;
  dirs: number;
  localityHitRate: number;
  breakerFailures: number;
}

export interface RunningJob {
  jobId: string;
  kind: JobKind;
  worker: string;
  ageMs: number;
  summary: string;
  attempt: number;
}

export interface JobTotals {
  submitted: number;
  succeeded: number;
  compileErrors: number;
  failed: number;
  retries: number;
  compiles: number;
  links: number;
  localityHits: number;
  localityMisses: number;
}

export interface StatusReply {
  state: string;
  workers: WorkerStatus[];
  queued: number;
  running: RunningJob[];
  totals: JobTotals;
  uptimeMs: number;
  version: string;
}
