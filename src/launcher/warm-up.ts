// Runs the launcher's pure hot-path functions once, so that a V8 code cache made afterwards holds their compiled code.
import { agentSocketOf, flagOrEnvBoolean } from '../common/agent-socket.js';
import { FRAME, commandIndex, createFrameReader, decodeExit, encodeExit, encodeFrame, encodeHello, encodeRequest, launcherMode } from '../protocol/agent-frames.js';

export function warmUp(): void {
  const env: NodeJS.ProcessEnv = { HOME: '/nonexistent', LANG: 'C.UTF-8', PATH: '/usr/bin' };
  const argv = ['/usr/bin/distbuild', '--compiler', '--fs-mount=/mnt/shared', '--', '/usr/bin/c++', '-O2', '-c', 'a.cpp', '-o', 'a.o'];
  launcherMode(argv.slice(1));
  agentSocketOf(argv.slice(1), env);
  flagOrEnvBoolean(argv.slice(1), env, 'verbose', false);
  commandIndex(argv);
  const request = encodeRequest({ flags: 0, pid: 1, id: 'warm-up', cwd: '/mnt/shared/p/build', argv, env: Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`) });
  const read = createFrameReader((frame) => {
    if (frame.type === FRAME.EXIT) decodeExit(frame.payload);
  });
  read(Buffer.concat([encodeHello(), request, encodeFrame(FRAME.STDERR, Buffer.from('warning\n')), encodeExit(0)]));
}
