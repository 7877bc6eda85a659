// Vitest global setup: gives every test file one S3 endpoint, either an external one from the
// environment or a throwaway RGW started here and stopped in teardown.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRgw } from './rgw.js';

export interface S3TestConfig {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3TestConfig;
  }
}

function fromEnv(): S3TestConfig | undefined {
  const endpoint = process.env.MEDRELAY_TEST_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const accessKeyId = process.env.MEDRELAY_TEST_S3_ACCESS_KEY_ID;
  const secretAccessKey = process.env.MEDRELAY_TEST_S3_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'MEDRELAY_TEST_S3_ENDPOINT is set, so MEDRELAY_TEST_S3_ACCESS_KEY_ID and ' +
        'MEDRELAY_TEST_S3_SECRET_ACCESS_KEY must be set too',
    );
  }
  return { endpoint, accessKeyId, secretAccessKey, region: process.env.MEDRELAY_TEST_S3_REGION ?? 'us-east-1' };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = fromEnv();
  if (external) {
    project.provide('s3', external);
    return async () => {};
  }

  const dir = await mkdtemp(join(tmpdir(), 'medrelay-rgw-'));
  // startRgw cleans up its own daemons when it fails; the dir stays so its logs can be read.
  const rgw = await startRgw(dir);
  const { endpoint, accessKeyId, secretAccessKey, region } = rgw;
  project.provide('s3', { endpoint, accessKeyId, secretAccessKey, region });
  return async () => {
    await rgw.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
