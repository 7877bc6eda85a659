// Command-line options of bench/run.mjs.
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run bench -- [options]      (or: node bench/run.mjs [options] after npm run build)
  --only A,B,C,R   workloads to run (A DICOM series, B day of PDFs, C trickle, R restart with a full queue)
  --quick          small workloads and one repetition: a smoke run of a minute or two
  --reps N         repetitions of A and B per tool (default 3, quick 1); the table shows medians
  --seed N         seed of the generated data (default 1)
  --no-rclone      skip rclone even if it is installed
  --extra          also run experiments: the agent without client-side encryption (encryption.mode
                   "sse-only"), the bare SDK with UNSIGNED-PAYLOAD (no SigV4 body hash)
  --keep           keep the temporary folder (data, configs, databases, logs)
Env: MEDRELAY_BENCH_S3_ENDPOINT, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _REGION use that store instead of a local RGW.`;

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' }, quick: { type: 'boolean' }, reps: { type: 'string' }, seed: { type: 'string' },
      'no-rclone': { type: 'boolean' }, extra: { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const only = (values.only ?? 'A,B,C,R').toUpperCase().split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of only) if (!['A', 'B', 'C', 'R'].includes(w)) throw new Error(`--only: unknown workload "${w}" (A, B, C, R)`);
  const reps = values.reps ? Number(values.reps) : values.quick ? 1 : 3;
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
  const seed = values.seed ? Number(values.seed) : 1;
  if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer');
  return { only, quick: values.quick ?? false, reps, seed, rclone: !values['no-rclone'], extra: values.extra ?? false, keep: values.keep ?? false, help: values.help ?? false };
}
