// Running the built `medrelay` CLI: configs (with client-side encryption when this build has it),
// one-pass runs, and a long-running agent that is stopped with SIGTERM.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDb } from './db.mjs';
import { parseUsage, run } from './proc.mjs';

/**
 * The command as it ships: dist/medrelay.mjs, one bundled file (the Electron app bundles too).
 * MEDRELAY_BENCH_CLI=unbundled runs dist/src-main/cli.js instead (the profiler does).
 */
export const CLI = fileURLToPath(new URL(process.env.MEDRELAY_BENCH_CLI === 'unbundled' ? '../../dist/src-main/cli.js' : '../../dist/medrelay.mjs', import.meta.url));

/**
 * Encryption is on when this build's CLI has `keys init`: the key file is made by the CLI itself
 * (mode 0600), with key id "bench-key" where the CLI takes --key-id; the config uses whatever key
 * id the file names. Returns { enabled, section?, keyFile?, keyId?, why }.
 */
export async function prepareEncryption(dir) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm run bench does)`);
  const help = await run(process.execPath, [CLI, '--help']);
  const text = `${help.stdout}\n${help.stderr}`;
  if (!text.includes('keys init')) {
    return { enabled: false, why: 'this build has no "keys init" command: agent runs WITHOUT encryption' };
  }
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'bench-key.key');
  const args = [CLI, 'keys', 'init', '--file', keyFile, ...(/--key-id/.test(text) ? ['--key-id', 'bench-key'] : [])];
  const r = await run(process.execPath, args);
  if (r.code !== 0 || !existsSync(keyFile)) throw new Error(`medrelay keys init failed (exit ${r.code}): ${r.stderr}`);
  chmodSync(keyFile, 0o600);
  let keyId = 'bench-key';
  try { keyId = JSON.parse(readFileSync(keyFile, 'utf8')).keyId ?? keyId; } catch { /* a bare base64 key file */ }
  return {
    enabled: true, keyFile, keyId, why: `this build has "keys init": agent runs WITH encryption (aes keyring "${keyId}", key file)`,
    section: { keyrings: [{ type: 'aes', keyId, keyFile }] },
  };
}

/** Writes `dir/medrelay.json` (dataDir `dir/data`) and returns its path and the database path. */
export function writeConfig(dir, { store, bucket, watch, windowMs, incompleteAfterMs = 0, concurrency = 4, encryption, storeExtra = {} }) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'medrelay.json');
  const config = {
    dataDir: join(dir, 'data'),
    workstationId: 'bench',
    store: { type: 's3', bucket, region: store.region, endpoint: store.endpoint, forcePathStyle: true, ...storeExtra },
    credentials: { source: 'env' },
    watch,
    stability: { windowMs, incompleteAfterMs },
    queue: { concurrency, retryBaseMs: 200, retryMaxMs: 2000 },
  };
  if (encryption?.enabled) config.encryption = encryption.section;
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, db: join(dir, 'data', 'medrelay.db'), config };
}

export function agentEnv(store, extra = {}) {
  return {
    ...process.env, AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
    AWS_REGION: store.region, MEDRELAY_USAGE: '1', ...extra,
  };
}

/**
 * `medrelay agent --config FILE --once`; throws unless everything was delivered. Fails fast: a job
 * parked in needs-attention or failed (read from the database every second) ends the run at once
 * instead of waiting for the agent's retries.
 */
export async function agentOnce(configFile, env, { nodeArgs = [], timeoutMs = 600_000, db, cli = CLI } = {}) {
  let parked = null;
  let watchdog = null;
  const onSpawn = (child) => {
    if (!db) return;
    watchdog = setInterval(() => {
      if (!existsSync(db)) return;
      try {
        const row = withDb(db, (d) => d.prepare(`SELECT state, last_error AS e FROM jobs WHERE state IN ('needs-attention','failed') LIMIT 1`).get());
        if (row) {
          parked = `a job is ${row.state}: ${row.e}`;
          child.kill('SIGKILL');
        }
      } catch { /* schema not there yet, or busy */ }
    }, 1000);
  };
  const r = await run(process.execPath, [...nodeArgs, cli, 'agent', '--config', configFile, '--once', '--quiet'], { env, timeoutMs, onSpawn })
    .finally(() => clearInterval(watchdog));
  if (parked) throw new Error(`agent --once stopped by the bench: ${parked}`);
  if (r.signal === 'SIGKILL') throw new Error(`agent --once did not finish within ${timeoutMs / 1000} s`);
  if (r.code !== 0) throw new Error(`agent --once exited ${r.code ?? r.signal}:\n${r.stdout.slice(0, 3000)}\n${r.stderr.slice(-3000)}`);
  return { ...r, usage: parseUsage(r.stderr) };
}

/**
 * `medrelay agent --config FILE` in the background. `ready` resolves at its "watching" log line;
 * `stop()` sends SIGTERM and resolves with its usage once it has exited.
 */
export function startAgent(configFile, env, { nodeArgs = [], onLine } = {}) {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'agent', '--config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let partial = '';
  let markReady;
  const ready = new Promise((r) => { markReady = r; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.stdout.resume();
  child.stderr.on('data', (d) => {
    stderr += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const l of lines) {
      if (/ info watching /.test(l)) markReady(Date.now());
      onLine?.(l, Date.now());
    }
  });
  void exited.then(() => markReady(null));
  return {
    child, startedAt, ready, exited,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const how = await exited;
      clearTimeout(killer);
      return { ...how, usage: parseUsage(stderr) };
    },
  };
}
