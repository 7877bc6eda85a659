// What every command shares: flags, usage errors, output, reading a secret without echo.
import { parseArgs } from 'node:util';
import type { Agent } from '../core/agent.js';
import type { ResolvedConfig } from '../core/config/load.js';
import { defaultPolicyPath, loadEffectiveConfig } from '../core/config/policy.js';
import { lookAt, type FolderLook } from '../core/watch/first-look.js';

export class UsageError extends Error {}

export interface Flags {
  config?: string; once?: boolean; json?: boolean; date?: string; key?: string; out?: string; dir?: string;
  quiet?: boolean; help?: boolean; file?: string; 'key-id'?: string; 'key-file'?: string; rsa?: boolean;
  'access-key-id'?: string; policy?: string;
}

export function parse(argv: string[]): { positionals: string[]; flags: Flags } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' }, once: { type: 'boolean' }, json: { type: 'boolean' },
      date: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, dir: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' }, file: { type: 'string' },
      'key-id': { type: 'string' }, 'key-file': { type: 'string' }, rsa: { type: 'boolean' },
      'access-key-id': { type: 'string' }, policy: { type: 'string' },
    },
  });
  return { positionals, flags: values };
}

/** The user's config merged with the IT policy (default path per OS, or --policy FILE). */
export function needConfig(flags: Flags): ResolvedConfig {
  if (!flags.config) throw new UsageError('--config FILE is required');
  const { config, locked, policyPath } = loadEffectiveConfig(flags.config, flags.policy ?? defaultPolicyPath());
  return { ...config, policy: { path: policyPath, locked } };
}

/** What the entry point reads and looks at before it loads the rest of the command (src-main/cli.ts). */
export interface EarlyStart {
  config: ResolvedConfig;
  firstLook: FolderLook;
}

/**
 * For `agent --once` with a configuration that loads: it, and the first look at its folders.
 * Otherwise nothing: the command itself then reads its flags and configuration, and says what is
 * wrong with them.
 */
export async function earlyStart(argv: string[]): Promise<EarlyStart | undefined> {
  try {
    const { positionals, flags } = parse(argv);
    if (positionals.length !== 1 || positionals[0] !== 'agent' || !flags.once || flags.help) return undefined;
    const config = needConfig(flags);
    return { config, firstLook: await lookAt(config.watch) };
  } catch {
    return undefined;
  }
}

/** Runs `f` with an agent on the command's settings (--config, the IT policy), closed afterwards. */
export async function withAgent<T>(flags: Flags, f: (agent: Agent) => T | Promise<T>): Promise<T> {
  const config = needConfig(flags);
  // Loaded here, not imported above: the command's entry point loads this file before it looks at
  // the folders (src-main/cli.ts), and the agent's modules are most of its start-up.
  const { Agent } = await import('../core/agent.js');
  const agent = new Agent(config);
  try {
    return await f(agent);
  } finally {
    agent.close();
  }
}

export function need<K extends keyof Flags>(flags: Flags, name: K, shown: string): NonNullable<Flags[K]> {
  const v = flags[name];
  if (v === undefined || v === '') throw new UsageError(`${shown} is required`);
  return v as NonNullable<Flags[K]>;
}

export function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

let pipedLines: Promise<string[]> | null = null;

/** Standard input read once, as lines: `printf 'id\nsecret\n' | medrelay login` answers both questions. */
function nextPipedLine(): Promise<string> {
  pipedLines ??= (async () => {
    let data = '';
    for await (const chunk of process.stdin) data += (chunk as Buffer).toString('utf8');
    return data.split(/\r?\n/);
  })();
  return pipedLines.then((lines) => (lines.shift() ?? '').trim());
}

/** Reads a secret: from standard input when it is not a terminal, else from a prompt without echo. */
export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return nextPipedLine();
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false); stdin.pause(); stdin.off('data', onData); process.stderr.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') { stdin.setRawMode(false); return reject(new UsageError('cancelled')); }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
