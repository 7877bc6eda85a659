// Runs the built `medrelay` command as a real process, the way scripts and IT use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeKeyFile } from './keys.js';
import { s3Config } from './s3.js';

export const CLI = resolve(import.meta.dirname, '../../dist/medrelay.mjs');

function checkBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" before the tests`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child that talks to the test S3 store with `credentials.source = env`. */
export function s3Env(): NodeJS.ProcessEnv {
  const s3 = s3Config();
  return { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  checkBuilt();
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: opts.env ?? process.env });
    child.stdin.end(opts.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`medrelay ${args.join(' ')} timed out\n${stderr}`)); }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

/** Starts `medrelay agent` (no --once); the caller stops or kills it. */
export function spawnAgent(config: string, env: NodeJS.ProcessEnv): ChildProcess & { log: () => string } {
  checkBuilt();
  const child = spawn(process.execPath, [CLI, 'agent', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  return Object.assign(child, { log: () => log });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Writes a config for a project folder `dir` with inbox/ecg, inbox/dicom, an S3 bucket and a site key file (`dir/test-site-key.key.json`). */
export function writeS3Config(dir: string, bucket: string, extra: Record<string, unknown> = {}): string {
  const s3 = s3Config();
  for (const d of ['inbox/ecg', 'inbox/dicom']) mkdirSync(join(dir, d), { recursive: true });
  const file = join(dir, 'medrelay.json');
  const { store: storeExtra, ...rest } = extra as { store?: Record<string, unknown> };
  const key = existsSync(join(dir, 'test-site-key.key.json')) ? { keyId: 'test-site-key', keyFile: join(dir, 'test-site-key.key.json') } : makeKeyFile(dir);
  writeFileSync(file, JSON.stringify({
    dataDir: 'data',
    workstationId: 'ws-test',
    store: { type: 's3', bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, ...storeExtra },
    encryption: { keyrings: [{ type: 'aes', keyId: key.keyId, keyFile: key.keyFile }] },
    credentials: { source: 'env' },
    watch: [{ path: 'inbox/ecg', kind: 'ecg' }, { path: 'inbox/dicom', kind: 'dicom' }],
    stability: { windowMs: 300, incompleteAfterMs: 300 },
    queue: { concurrency: 4, retryBaseMs: 200, retryMaxMs: 2000 },
    ...rest,
  }, null, 2));
  return file;
}
