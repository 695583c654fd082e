// `distbuild --agent`: runs the per-user agent until it has been idle for its timeout (clients start it on demand).
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentAlreadyRunningError, ensureSocketDir, startAgent } from '../agent/agent.js';
import { createLogger } from '../common/logger.js';
import { ConfigError } from '../config/config-error.js';
import type { Settings } from '../config/settings.js';
import { onStopSignals } from './signals.js';

export async function agentCommand(settings: Settings): Promise<number> {
  try {
    ensureSocketDir(settings.agentSocket); // before agent.log is opened in it
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`distbuild: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger({ level: settings.logLevel, role: 'agent', file: path.join(path.dirname(settings.agentSocket), 'agent.log') });
  let agent;
  try {
    agent = await startAgent({ socket: settings.agentSocket, idleTimeoutMs: settings.agentIdleTimeoutMs, logger });
  } catch (err) {
    if (err instanceof AgentAlreadyRunningError) return 0; // lost a start-up race: the other agent serves
    if (!(err instanceof ConfigError)) throw err;
    logger.error(err.message);
    process.stderr.write(`distbuild: ${err.message}\n`);
    return 2;
  }
  const pidFile = path.join(path.dirname(settings.agentSocket), 'agent.pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  const off = onStopSignals(() => agent.stop(), () => agent.stop());
  await agent.done;
  off();
  rmSync(pidFile, { force: true });
  logger.close();
  return 0;
}
