// Shared set-up for the catalog tests: a real RGW bucket behind the real S3 store (its client
// counts the requests it sends, per command), a real SQLite database, a site key file.
import { PutObjectCommand, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type ResolvedConfig } from '../../../src-main/core/config/load.js';
import { s3StoreSchema } from '../../../src-main/core/config/schema.js';
import { buildEncryptKeyring, keyIdOf } from '../../../src-main/core/crypto/keyrings.js';
import { openDatabase, type Db } from '../../../src-main/core/db/open.js';
import type { IndexEncryption } from '../../../src-main/core/catalog/index-writer.js';
import { S3Store } from '../../../src-main/core/store/s3.js';
import { makeKeyFile } from '../../support/keys.js';
import { freshBucket, s3Config, testS3Client } from '../../support/s3.js';

export type Counts = Record<string, number>;

/** A client that counts each command it sends (a middleware, not a mock: requests still go to RGW). */
export function countingClient(opts: Partial<S3ClientConfig> = {}): { client: S3Client; counts: Counts; reset: () => void } {
  const client = testS3Client({ maxAttempts: 2, ...opts });
  const counts: Counts = {};
  client.middlewareStack.add((next, context) => async (args) => {
    const name = (context as { commandName?: string }).commandName ?? 'unknown';
    counts[name] = (counts[name] ?? 0) + 1;
    return next(args);
  }, { step: 'initialize', name: 'medrelayTestCounter' });
  return { client, counts, reset: () => { for (const k of Object.keys(counts)) delete counts[k]; } };
}

export interface S3Site {
  bucket: string;
  client: S3Client;
  counts: Counts;
  reset: () => void;
  store: S3Store;
  config: ResolvedConfig;
  db: Db;
  encryption: IndexEncryption;
}

/** A workstation (or reading station) `ws` on a bucket, with its own database in `dir/ws`. */
export async function s3Site(dir: string, ws: string, opts: { bucket?: string; prefix?: string; keyDir?: string; mode?: 'client' | 'sse-only' } = {}): Promise<S3Site> {
  const { client, counts, reset } = countingClient();
  const bucket = opts.bucket ?? await freshBucket(`cat-${ws}`);
  const s3 = s3Config();
  const keyDir = opts.keyDir ?? dir;
  const keyFile = join(keyDir, 'test-site-key.key.json');
  // Every station of a site shares the site key: make it once per folder.
  const key = opts.mode === 'sse-only' ? null : existsSync(keyFile) ? { keyId: 'test-site-key', keyFile } : makeKeyFile(keyDir);
  const config = parseConfig({
    dataDir: join(dir, ws), workstationId: ws,
    store: { type: 's3', bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, prefix: opts.prefix ?? '' },
    encryption: key ? { keyrings: [{ type: 'aes', ...key }] } : { mode: 'sse-only', keyrings: [] },
    credentials: { source: 'env' },
    watch: [{ path: 'inbox', kind: 'auto' }],
  }, dir);
  const store = new S3Store(client, s3StoreSchema.parse(config.store));
  const db = openDatabase(join(config.dataDir, 'medrelay.db'));
  const encryption = config.encryption.mode === 'sse-only' ? null
    : { keyring: await buildEncryptKeyring(config.encryption, null), keyIds: config.encryption.keyrings.map(keyIdOf) };
  return { bucket, client, counts, reset, store, config, db, encryption };
}

/** Writes a stand-in record object (the catalog lists records; it never opens them). */
export function putObject(client: S3Client, bucket: string, key: string, metadata: Record<string, string> = {}, body: string | Buffer = 'ciphertext stand-in'): Promise<unknown> {
  return client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
}

export function sha(i: number): string {
  return i.toString(16).padStart(64, '0');
}
