// The S3 store under test: our own Ceph RGW on 127.0.0.1 (scripts/rgw.sh, memstore), or an
// endpoint given in MEDRELAY_BENCH_S3_ENDPOINT (+ _ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _REGION).
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RGW_SH = fileURLToPath(new URL('../../scripts/rgw.sh', import.meta.url));

function rgw(args, env = process.env) {
  return new Promise((resolve, reject) => {
    execFile('bash', [RGW_SH, ...args], { env, timeout: 240_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/rgw.sh ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

let starts = 0;

/** Returns { endpoint, accessKeyId, secretAccessKey, region, serverPids, kind, stop() }. */
export async function openStore(tmpDir) {
  const e = process.env;
  if (e.MEDRELAY_BENCH_S3_ENDPOINT) {
    if (!e.MEDRELAY_BENCH_S3_ACCESS_KEY_ID || !e.MEDRELAY_BENCH_S3_SECRET_ACCESS_KEY) {
      throw new Error('MEDRELAY_BENCH_S3_ENDPOINT needs MEDRELAY_BENCH_S3_ACCESS_KEY_ID and MEDRELAY_BENCH_S3_SECRET_ACCESS_KEY');
    }
    return {
      kind: 'external', endpoint: e.MEDRELAY_BENCH_S3_ENDPOINT, accessKeyId: e.MEDRELAY_BENCH_S3_ACCESS_KEY_ID,
      secretAccessKey: e.MEDRELAY_BENCH_S3_SECRET_ACCESS_KEY, region: e.MEDRELAY_BENCH_S3_REGION ?? 'us-east-1',
      serverPids: [], async stop() {},
    };
  }
  // rgw.sh wants a fresh folder for every cluster.
  const dir = `${tmpDir}/rgw-${++starts}`;
  mkdirSync(dir, { recursive: true });
  // The script's watchdog stops the daemons if this process dies without calling stop().
  const out = await rgw(['start', dir], { ...process.env, RGW_OWNER_PID: String(process.pid) });
  const info = JSON.parse(out.trim().split('\n').at(-1));
  let stopped = false;
  return {
    kind: 'rgw-memstore', endpoint: info.endpoint, accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey,
    region: info.region, serverPids: info.pids ?? [],
    async stop() {
      if (stopped) return;
      stopped = true;
      await rgw(['stop', dir]);
    },
  };
}

export function s3Client(store) {
  return new S3Client({
    endpoint: store.endpoint, region: store.region, forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
}

let counter = 0;
/** A fresh bucket for one run: `mrb-<label>-<run id>-<n>`. */
export async function freshBucket(store, label, runId) {
  const name = `mrb-${label}-${runId}-${++counter}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
  const client = s3Client(store);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}
