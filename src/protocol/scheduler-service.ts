// The Scheduler service of proto/distbuild.proto as a nice-grpc definition.
import type {
  JobsRequest,
  JobsResponse,
  StatusReply,
  StatusRequest,
  SubmitJobsRequest,
  SubmitJobsResponse,
  ServerMessage,
  WorkerMessage,
} from './messages.js';
import { createMethodDefinition } from './service-definition.js';

/** Builds the definition; reflection runs once, on first use. */
function createSchedulerDefinition() {
  return {
    submitJobs: createMethodDefinition<SubmitJobsRequest, SubmitJobsResponse, false, true>(
      'Scheduler',
      'SubmitJobs',
      false,
      true,
    ),
    jobs: createMethodDefinition<JobsRequest, JobsResponse, true, true>('Scheduler', 'Jobs', true, true),
    work: createMethodDefinition<WorkerMessage, ServerMessage, true, true>('Scheduler', 'Work', true, true),
    getStatus: createMethodDefinition<StatusRequest, StatusReply, false, false>('Scheduler', 'GetStatus', false, false),
  } as const;
}

export type SchedulerDefinition = ReturnType<typeof createSchedulerDefinition>;

let definition: SchedulerDefinition | undefined;

/** The nice-grpc service definition of the Scheduler service. */
export function schedulerDefinition(): SchedulerDefinition {
  definition ??= createSchedulerDefinition();
  return definition;
}
