// `distbuild shell`: a REPL of the subcommands (workers list, jobs list, job status ID…), with help, history and Tab completion.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { errnoCode } from '../common/errno.js';
import type { Settings } from '../config/settings.js';
import { VERB_PHRASES, runVerb } from './verbs.js';

const SHELL_WORDS = [...VERB_PHRASES, 'help', 'exit'];

const HELP = `commands:
  workers list         the registered workers
  clients list         each client's running and queued jobs (fair share)
  jobs list            running and recently finished jobs
  job status ID        one job (an id, or the start of one)
  scheduler status     the queue, the totals, locality and cache hit rates
  cache stats|trim|clear   the result cache
  help                 this list
  exit                 leave (or Ctrl-D)
add --json to any command for JSON
`;

/** The shell's history file: $XDG_STATE_HOME/distbuild/shell_history. */
function historyFile(): string {
  const state = process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'distbuild', 'shell_history');
}

function readHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').reverse().slice(0, 500);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return [];
  }
}

/** Completes the phrase typed so far (the shell's Tab). */
export function complete(line: string): [string[], string] {
  const hits = SHELL_WORDS.filter((w) => w.startsWith(line.trimStart()));
  return [hits.length > 0 ? hits : SHELL_WORDS, line];
}

export async function shellCommand(settings: Settings): Promise<number> {
  const file = historyFile();
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, completer: complete, history: readHistory(file), historySize: 500, prompt: 'distbuild> ' });
  process.stdout.write('distbuild shell: type help for the commands, exit to leave\n');
  rl.prompt();
  for await (const line of rl) {
    const words = line.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length > 0) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        appendFileSync(file, `${line.trim()}\n`);
      } catch (err) {
        if (errnoCode(err) === undefined) throw err; // no history then
      }
    }
    if (words[0] === 'exit' || words[0] === 'quit') break;
    if (words[0] === 'help') process.stdout.write(HELP);
    else if (words.length > 0) {
      const asJson = words.includes('--json');
      const out = await runVerb(words.filter((w) => w !== '--json'), { ...settings, json: settings.json || asJson });
      (out.code === 0 ? process.stdout : process.stderr).write(out.text);
    }
    rl.prompt();
  }
  rl.close();
  process.stdout.write('bye\n');
  return 0;
}
