// A throwaway Ceph RGW (scripts/rgw.sh) driven from TypeScript: used by the Vitest global setup
// and by bench scripts, so it must not import vitest.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RgwHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Where the daemons keep their conf, data and logs; the caller owns and removes it. */
  dir: string;
  /** Kills mon, osd and radosgw and waits until they have exited. Safe to call twice. */
  stop(): Promise<void>;
  /** Kills only radosgw, like a crash: connections are refused while RADOS keeps the data. */
  stopRgwOnly(): Promise<void>;
  /** Starts radosgw again on the same endpoint; resolves once it answers HTTP. */
  restartRgwOnly(): Promise<void>;
}

export interface StartRgwOptions {
  store?: 'memstore' | 'bluestore';
  rgwPort?: number;
  monPort?: number;
}

interface StartOutput {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

const script = fileURLToPath(new URL('../../scripts/rgw.sh', import.meta.url));

function runScript(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    // Start-up is ~1-2 s; the long limit only covers a loaded CI box, the script has its own timeouts.
    execFile('bash', [script, ...args], { env, timeout: 240_000 }, (error, stdout, stderr) => {
      if (error) {
        const why = error.signal ? `killed by ${error.signal}` : `exit ${String(error.code)}`;
        reject(new Error(`scripts/rgw.sh ${args.join(' ')} failed (${why}):\n${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

export async function startRgw(dir: string, options: StartRgwOptions = {}): Promise<RgwHandle> {
  // The script's watchdog stops the daemons if this process dies without calling stop().
  const env: NodeJS.ProcessEnv = { ...process.env, RGW_OWNER_PID: String(process.pid) };
  if (options.store) env.RGW_STORE = options.store;
  if (options.rgwPort) env.RGW_PORT = String(options.rgwPort);
  if (options.monPort) env.MON_PORT = String(options.monPort);
  const stdout = await runScript(['start', dir], env);
  const info = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as StartOutput;
  let stopped = false;

  return {
    endpoint: info.endpoint,
    accessKeyId: info.accessKeyId,
    secretAccessKey: info.secretAccessKey,
    region: info.region,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await runScript(['stop', dir]);
    },
    async stopRgwOnly() {
      await runScript(['stop-rgw', dir]);
    },
    async restartRgwOnly() {
      await runScript(['start-rgw', dir]);
    },
  };
}
