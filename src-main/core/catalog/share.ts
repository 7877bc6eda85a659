// Share links. A presigned GET URL (at most 7 days, the SigV4 limit) lets anyone with the link
// read one object without credentials, but our objects are encrypted for the clinic's keys, so a
// link to one would be useless to a recipient. What a share gives therefore depends on the object:
//  - `plain` (sse-only stores): a link to the object itself;
//  - encrypted: a copy re-encrypted under a one-time password, stored once under
//    `shares/<id>.mrshare`, and a link to that copy. The password (120 random bits) is shown once
//    and sent by another channel; the recipient runs `medrelay open-share --url URL --out FILE`.
// The copy is an AWS Encryption SDK message (same committing suite) whose data key is wrapped by
// a raw AES key derived from the password with scrypt, salted with the share id (which the URL
// carries); the original file name travels inside it. See docs/browsing.md.
import type { KeyringNode } from '@aws-crypto/material-management-node';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/raw-aes-keyring-node';
import { randomBytes, scrypt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ShareLink } from '../../../src-shared/api.js';
import { DecryptError, decrypting, describeDecryptFailure, encrypting, namedHeader, stripNamedHeader } from '../crypto/envelope.js';
import { writeDecrypted } from '../store/record-reader.js';
import { MAX_PRESIGN_SECONDS } from '../store/s3-listing.js';
import { METADATA, StoreError, type ObjectStore, type PartRecord, type UploadJournal } from '../store/types.js';

export const SHARE_ROOT = 'shares';
export const SHARE_SUFFIX = '.mrshare';
export const MIN_SHARE_SECONDS = 60;
const SHARE_NAMESPACE = 'medrelay-share';
/** scrypt cost: about 100 ms and 32 MiB here; the password alone already has 120 bits. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 15 random bytes as 24 base32 letters in groups of four: `k7dq-3mxa-…`. */
export function newSharePassword(): string {
  const bytes = randomBytes(15);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

function normalisePassword(p: string): string {
  return p.toLowerCase().replace(/[\s-]+/g, '');
}

/** The keyring a share id and its password open. */
export async function shareKeyring(id: string, password: string): Promise<KeyringNode> {
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(normalisePassword(password), `medrelay-share:${id}`, 32, SCRYPT, (e, k) => (e ? reject(e) : resolve(k)));
  });
  return new RawAesKeyringNode({
    keyNamespace: SHARE_NAMESPACE, keyName: id, unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/** The share id in a link (`…/shares/<id>.mrshare?X-Amz-…`), or null. */
export function shareIdOf(url: string): string | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  return new RegExp(`/${SHARE_ROOT}/([0-9a-f]{32})\\${SHARE_SUFFIX}$`).exec(path)?.[1] ?? null;
}

const IN_MEMORY_MAX = 8 * 1024 * 1024;

/** The upload journal of one share attempt, kept in memory only. */
class MemoryJournal implements UploadJournal {
  uploadId: string | null = null;
  partSize: number | null = null;
  parts: PartRecord[] = [];
  begin(uploadId: string, partSize: number): void { this.uploadId = uploadId; this.partSize = partSize; }
  partDone(part: PartRecord): void { this.parts = [...this.parts.filter((p) => p.partNumber !== part.partNumber), part]; }
  resumed(): void {}
  end(): void { this.uploadId = null; this.partSize = null; this.parts = []; }
}

export interface SharerOptions {
  prefix: string;
  workstationId: string;
  /** The keys this machine decrypts records with. */
  keyring: () => Promise<KeyringNode | null>;
  /** Where the re-encrypted copy is spooled before upload (ciphertext only). Default: the OS temp folder. */
  spoolDir?: string;
  now?: () => number;
}

export class Sharer {
  constructor(private readonly store: ObjectStore, private readonly opts: SharerOptions) {}

  async share(key: string, expiresInSeconds: number): Promise<ShareLink> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < MIN_SHARE_SECONDS || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new StoreError('bad-input', `a link must expire within ${MIN_SHARE_SECONDS} seconds to 7 days (${MAX_PRESIGN_SECONDS} s), not ${expiresInSeconds} s`, false);
    }
    if (!this.store.presignGet) throw new StoreError('bad-input', `links need an S3 store; ${this.store.location} is a folder, which has no URLs to share`, false);
    const head = await this.store.head(key);
    if (!head) throw new StoreError('not-found', `${this.store.location}/${key} does not exist`, false);
    const now = this.opts.now?.() ?? Date.now();
    const expiresAt = new Date(now + expiresInSeconds * 1000).toISOString();
    const format = head.metadata?.[METADATA.format] ?? 'plain';
    if (format === 'plain') {
      return { url: await this.store.presignGet(key, expiresInSeconds), expiresAt, mode: 'direct', password: null, sharedKey: key };
    }
    const id = randomBytes(16).toString('hex');
    const password = newSharePassword();
    const sharedKey = `${this.opts.prefix ? `${this.opts.prefix.replace(/^\/+|\/+$/g, '')}/` : ''}${SHARE_ROOT}/${id}${SHARE_SUFFIX}`;
    const spool = await mkdtemp(join(this.opts.spoolDir ?? tmpdir(), 'medrelay-share-'));
    try {
      const file = join(spool, 'copy.mrshare');
      await this.reencrypt(key, format, await shareKeyring(id, password), file);
      const size = (await stat(file)).size;
      // Small copies go in one request; larger ones as a multipart upload journaled in memory (a
      // share that fails is simply asked for again, under a new id).
      const data = size <= IN_MEMORY_MAX ? { buffer: await readFile(file) } : { file, size };
      await this.store.put({
        key: sharedKey, data, source: `a shared copy of ${key}`, ...(size > IN_MEMORY_MAX ? { journal: new MemoryJournal() } : {}),
        contentType: 'application/octet-stream',
        metadata: {
          [METADATA.kind]: 'share', [METADATA.workstation]: this.opts.workstationId, [METADATA.uploadedAt]: new Date(now).toISOString(),
          [METADATA.format]: 'esdk2-named', [METADATA.job]: `${this.opts.workstationId}/share-${id}`, 'medrelay-expires-at': expiresAt,
        },
      }).catch((e: unknown) => {
        if (e instanceof StoreError && e.code === 'auth') {
          throw new StoreError('auth', `${e.message}; sharing writes a copy, which needs s3:PutObject on ${sharedKey.slice(0, sharedKey.lastIndexOf('/'))}/*`, false);
        }
        throw e;
      });
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
    return { url: await this.store.presignGet(sharedKey, expiresInSeconds), expiresAt, mode: 'password-copy', password, sharedKey };
  }

  /** Decrypts the record and encrypts it again for the share keyring, plaintext only in memory. */
  private async reencrypt(key: string, format: string, target: KeyringNode, out: string): Promise<void> {
    const where = `${this.store.location}/${key}`;
    const keyring = await this.opts.keyring();
    if (!keyring) throw new DecryptError(`${where} is encrypted and this machine holds no key; import one with "medrelay keys import"`);
    const { body } = await this.store.get(key);
    let name = key.slice(key.lastIndexOf('/') + 1);
    const stages: NodeJS.ReadWriteStream[] = [decrypting(keyring)];
    if (format === 'esdk2-named') stages.push(stripNamedHeader((h) => { name = h.originalName; }));
    // The name header goes first; with esdk2-named the name is known once the header was stripped.
    let headed = false;
    stages.push(new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (!headed) { headed = true; this.push(namedHeader({ originalName: name })); }
        done(null, chunk);
      },
      flush(done) {
        if (!headed) this.push(namedHeader({ originalName: name }));
        done();
      },
    }));
    stages.push(encrypting(target, { 'medrelay-format': '1', 'medrelay-kind': 'share' }));
    try {
      await pipeline([body, ...stages, createWriteStream(out, { flags: 'wx' })]);
    } catch (e) {
      if (e instanceof DecryptError || e instanceof StoreError) throw e;
      throw describeDecryptFailure(e, where);
    }
  }
}

/** The recipient's side: downloads a shared copy and decrypts it with its password. */
export async function openShare(url: string, password: string, outPath: string): Promise<{ originalName: string | null }> {
  const id = shareIdOf(url);
  if (!id) throw new StoreError('bad-input', 'this is not a MedRelay share link (it must end in /shares/<id>.mrshare)', false);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new StoreError('network', `cannot download the shared record: ${(e as Error).message}`, true);
  }
  if (!res.ok || !res.body) {
    const why = res.status === 403 ? 'the link has expired or is not valid' : res.status === 404 ? 'the shared copy no longer exists' : `the store answered ${res.status}`;
    throw new StoreError(res.status === 403 ? 'auth' : 'not-found', `cannot download the shared record: ${why}`, false);
  }
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  const header = await writeDecrypted(body, 'esdk2-named', await shareKeyring(id, password), outPath, 'the shared record')
    .catch((e: unknown) => {
      if (e instanceof DecryptError && /none of this machine's keys/.test(e.message)) throw new DecryptError('the shared record does not open with this password');
      throw e;
    });
  return { originalName: header?.originalName ?? null };
}
