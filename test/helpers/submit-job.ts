// Submits one job to a farm over a real client and returns its result (tests of what workers refuse).
import { createClient } from 'nice-grpc';
import { authCallOptions } from '../../src/common/auth.js';
import { createServerChannel } from '../../src/common/server-channel.js';
import type { Job, JobResult } from '../../src/protocol/messages.js';
import { schedulerDefinition } from '../../src/protocol/scheduler-service.js';
import { clientChannel } from './farm.js';

export interface JobSubmitter {
  submit(argv: string[], over?: Partial<Job>): Promise<JobResult>;
  readonly client: ReturnType<typeof createClient<ReturnType<typeof schedulerDefinition>>>;
  close(): void;
}

/** Jobs run in `cwd` (default "w") under `mount`; `certs` and `token` as the farm wants them. */
export function createJobSubmitter(addr: string, mount: string, options: { certs?: string; token?: string } = {}): JobSubmitter {
  const channel = createServerChannel(addr, clientChannel(options.certs));
  const client = createClient(schedulerDefinition(), channel, authCallOptions(options.token));
  let n = 0;
  return {
    client,
    async submit(argv, over = {}) {
      const job: Job = { id: `job-${n++}-${Date.now()}`, kind: 'JOB_KIND_COMPILE', argv, cwd: 'w', clientMount: mount, env: {}, dirs: [], timeoutMs: 0, client: 'test', outputs: [], compiler: '', cacheStore: false, ...over };
      for await (const m of client.submitJobs({ jobs: [job], protocolVersion: 'PROTOCOL_VERSION_1' })) if (m.msg === 'result') return m.result;
      throw new Error('no result');
    },
    close: () => channel.close(),
  };
}
