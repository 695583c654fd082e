// Which workers' compilers are not the client's: the job names one, the worker registered another under that name or path.
import type { Compiler, Job } from '../protocol/messages.js';
import type { WorkerSession } from './worker-session.js';

export interface Misfit {
  readonly worker: WorkerSession;
  readonly compiler: Compiler;
}

/**
 * The workers whose compiler for this job identifies otherwise than the client's. A bare name is
 * matched with what the worker's PATH finds under it; an absolute path with what the worker found
 * there. A worker that registered no such compiler, or could not identify it, is not a misfit:
 * its own check when the job arrives decides (WORKER_UNFIT).
 */
export function compilerMisfits(job: Job, workers: Iterable<WorkerSession>): Misfit[] {
  if (job.compiler === '') return [];
  const argv0 = job.argv[0] ?? '';
  const same = argv0.includes('/') ? (c: Compiler): boolean => c.foundAt === argv0 || c.path === argv0 : (c: Compiler): boolean => c.name === argv0;
  const out: Misfit[] = [];
  for (const worker of workers) {
    const compiler = worker.registration.compilers.find(same);
    if (compiler !== undefined && compiler.identity !== '' && compiler.identity !== job.compiler) out.push({ worker, compiler });
  }
  return out;
}

/** Why no worker can take the job: the client's compiler, and what each misfit has. */
export function noCompilerMessage(job: Job, misfits: readonly Misfit[]): string {
  const tool = (job.argv[0] ?? '').split('/').pop() ?? '';
  return `no worker has the client's ${tool} ("${job.compiler}"): ${misfits.map((m) => `${m.worker.name} has "${m.compiler.identity}"`).join(', ')}`;
}
