// Runs the launcher's pure hot-path functions once, so that a V8 code cache made afterwards holds their compiled code.
import { localOnlyReason, parseCommandLine } from '../common/command-line.js';
import { pickJobEnv } from '../common/job-env.js';
import { isUnder, toMountRelative } from '../common/mount-path.js';
import { envSource, flagSource, resolveSettings } from '../config/resolve-settings.js';
import { AGENT_PROTOCOL, FRAME_STDERR, createFrameReader, encodeFrame, encodeJson } from '../protocol/agent-frames.js';
import { parseLauncherArgs } from './launcher-flags.js';

/** Typical CMake command lines: a C++ compile with a depfile, a link, an archive step (built on call: the bundle loads this module at every start). */
const samples = (): readonly (readonly string[])[] => [
  ['/usr/bin/c++', '-DNDEBUG', '-I/mnt/shared/p/include', '-isystem', '/mnt/shared/p/third', '-O2', '-g', '-std=gnu++17',
    '-MD', '-MT', 'src/CMakeFiles/a.dir/a.cpp.o', '-MF', 'src/CMakeFiles/a.dir/a.cpp.o.d', '-o', 'src/CMakeFiles/a.dir/a.cpp.o', '-c', '/mnt/shared/p/src/a.cpp'],
  ['/usr/bin/cc', '-O2', 'CMakeFiles/app.dir/main.c.o', '-o', 'app', '-Wl,-rpath,/mnt/shared/p/build', 'libcore.a', '-lm'],
  ['/usr/bin/ar', 'qc', 'libcore.a', 'CMakeFiles/core.dir/a.c.o', 'CMakeFiles/core.dir/b.c.o'],
];

export function warmUp(): void {
  const env: NodeJS.ProcessEnv = { HOME: '/nonexistent', LANG: 'C.UTF-8', LC_ALL: 'C', PATH: '/usr/bin', DISTBUILD_VERBOSE: '0' };
  for (const [i, command] of samples().entries()) {
    const parsed = parseLauncherArgs(['--server-addr=127.0.0.1:1', '--fs-mount=/mnt/shared', i === 0 ? '--compiler' : '--linker', '--', ...command]);
    const settings = resolveSettings([flagSource(parsed.flags), envSource(env)], env, { secrets: false });
    const cl = parseCommandLine(parsed.command);
    localOnlyReason(cl);
    for (const p of [...cl.inputs, ...cl.outputs.map((o) => o.path), ...cl.includeDirs]) {
      if (isUnder(`/mnt/shared/p/build/${p}`, settings.fsMount)) toMountRelative(`/mnt/shared/p/build/${p}`, settings.fsMount);
    }
    const request = encodeJson({ v: AGENT_PROTOCOL, type: 'job', argv: command, env: pickJobEnv(env, settings.envAllowlist) });
    const read = createFrameReader(() => undefined);
    read(encodeFrame(FRAME_STDERR, Buffer.from('warning\n')));
    read(request);
  }
}
