// rclone copy, plain and through a crypt remote, with a throwaway rclone.conf. rclone runs with
// AWS_CA_BUNDLE unset (it refuses the bundle this machine sets) and under /usr/bin/time for its CPU.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTimed } from './proc.mjs';

export function rcloneEnv() {
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  return env;
}

export function rcloneVersion() {
  try {
    return execFileSync('rclone', ['version'], { env: rcloneEnv(), encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return null;
  }
}

/** Writes rclone.conf with remotes `s3` (the store) and `crypt` (over s3:, bucket set per run). */
export function writeRcloneConf(dir, store) {
  const obscure = (s) => execFileSync('rclone', ['obscure', s], { env: rcloneEnv(), encoding: 'utf8' }).trim();
  const file = join(dir, 'rclone.conf');
  writeFileSync(file, `[s3]
type = s3
provider = Ceph
access_key_id = ${store.accessKeyId}
secret_access_key = ${store.secretAccessKey}
endpoint = ${store.endpoint}
region = ${store.region}
force_path_style = true

[crypt]
type = crypt
remote = s3:
password = ${obscure('medrelay-bench-password')}
password2 = ${obscure('medrelay-bench-salt')}
`, { mode: 0o600 });
  return file;
}

export const RCLONE_FLAGS = ['--transfers', '4', '--s3-upload-concurrency', '4', '--s3-no-check-bucket', '--stats', '0', '-q'];

/**
 * `rclone copy SRC s3:BUCKET/PREFIX` or, for remote 'crypt', `rclone copy SRC crypt:PREFIX` with the
 * crypt remote over s3:BUCKET (so the bucket name itself is not encrypted).
 */
export async function rcloneCopy(conf, remote, src, bucket, prefix, tmpDir) {
  const env = rcloneEnv();
  let dest = `s3:${bucket}/${prefix}`;
  if (remote === 'crypt') {
    env.RCLONE_CONFIG_CRYPT_REMOTE = `s3:${bucket}`;
    dest = `crypt:${prefix}`;
  }
  const r = await runTimed('rclone', ['--config', conf, 'copy', src, dest, ...RCLONE_FLAGS], { env, tmpDir });
  if (r.code !== 0) throw new Error(`rclone ${remote} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}
