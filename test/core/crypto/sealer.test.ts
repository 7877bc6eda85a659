// Small records encrypted on a worker thread: the same messages as on the main thread, a changed
// file is refused there too (by its identity from intake, else by its hash), and anything the worker
// cannot read quickly is left to the main thread.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptionContext, namedHeader } from '../../../src-main/core/crypto/envelope.js';
import { newAesKey, writeKeyFile } from '../../../src-main/core/crypto/key-files.js';
import { decryptWithKeyFile } from '../../../src-main/core/crypto/manage.js';
import { Sealer } from '../../../src-main/core/crypto/sealer.js';
import { fileIdentity } from '../../../src-main/core/queue/file-identity.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('sealer');
const keyFile = join(dir, 'site.key.json');
const key = newAesKey();
writeKeyFile(keyFile, { medrelayKey: 1, type: 'aes', keyId: 'site-1', key });

function file(name: string, content: Buffer) {
  const path = join(dir, name);
  writeFileSync(path, content);
  // A whole second: utimes cannot put back a time with milliseconds exactly (float rounding).
  const t = Math.floor(Date.now() / 1000) - 10;
  utimesSync(path, t, t);
  const s = statSync(path);
  return { path, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), sha256: createHash('sha256').update(content).digest('hex'), identity: null };
}

/** The identity intake would record once the file's ctime is settled (here: a clock 2 s ahead). */
function identityOf(path: string, sha256: string): string {
  return fileIdentity(sha256, statSync(path, { bigint: true }), Date.now() + 2000)!;
}

describe('Sealer (worker thread)', () => {
  // Vitest runs the TypeScript sources; a worker thread runs the built file (scripts/test builds first).
  const worker = new URL('../../../dist/src-main/core/crypto/seal-worker.js', import.meta.url);
  const sealer = Sealer.start([{ type: 'aes', keyId: 'site-1', key: new Uint8Array(Buffer.from(key, 'base64')) }], worker)!;
  afterAll(() => sealer.close());
  const context = encryptionContext('ecg-report', 'ws-1');
  const content = Buffer.from('%PDF-1.4\n' + 'z'.repeat(150_000) + '\n%%EOF\n');

  it('encrypts a file that only the key opens, with the name header when asked', async () => {
    for (const [name, header] of [['plain.pdf', null], ['named.pdf', namedHeader({ originalName: 'named.pdf' })]] as const) {
      const f = file(name, content);
      const reply = await sealer.seal({ ...f, context, header });
      if (reply.result !== 'sealed') throw new Error(`expected sealed, got ${reply.result}`);
      expect(reply.sha256).toBe(createHash('sha256').update(reply.ciphertext).digest('hex'));
      writeFileSync(join(dir, `${name}.enc`), reply.ciphertext);
      reply.release();
      const { originalName } = await decryptWithKeyFile(keyFile, join(dir, `${name}.enc`), join(dir, `${name}.out`));
      expect(readFileSync(join(dir, `${name}.out`)).equals(content)).toBe(true);
      expect(originalName).toBe(header ? 'named.pdf' : null);
    }
  });

  it('refuses a file whose bytes changed behind an unchanged size and time, and leaves a missing file to the caller', async () => {
    const f = file('changed.pdf', content);
    const other = Buffer.from(content);
    other[200] = other[200]! ^ 1;
    writeFileSync(f.path, other);
    utimesSync(f.path, f.mtimeMs / 1000, f.mtimeMs / 1000);
    expect((await sealer.seal({ ...f, context, header: null })).result).toBe('changed');
    expect((await sealer.seal({ ...f, path: join(dir, 'missing.pdf'), context, header: null })).result).toBe('fallback');
  });

  it('trusts the identity intake recorded instead of hashing again, and hashes when a rewrite moved it', async () => {
    const f = file('identity.pdf', content);
    // An identity bound to some other hash: a worker that took it on trust seals without hashing.
    const bound = createHash('sha256').update('the hash intake computed').digest('hex');
    expect((await sealer.seal({ ...f, sha256: bound, identity: identityOf(f.path, bound), context, header: null })).result).toBe('sealed');
    const identity = identityOf(f.path, f.sha256);
    const other = Buffer.from(content);
    other[300] = other[300]! ^ 1;
    writeFileSync(f.path, other);
    utimesSync(f.path, f.mtimeMs / 1000, f.mtimeMs / 1000);
    // Same size and mtime, but the write moved ctime: the identity no longer vouches, the hash differs.
    expect((await sealer.seal({ ...f, identity, context, header: null })).result).toBe('changed');
  });

  it('writes each ciphertext into a slot of its own until it is released, and reuses released slots', async () => {
    const a = file('slot-a.pdf', content);
    const b = file('slot-b.pdf', Buffer.concat([content, Buffer.from('more')]));
    const first = await sealer.seal({ ...a, context, header: null });
    if (first.result !== 'sealed') throw new Error(`expected sealed, got ${first.result}`);
    const copy = Buffer.from(first.ciphertext);
    // The first one is still held: the second must not land on it.
    const second = await sealer.seal({ ...b, context, header: null });
    if (second.result !== 'sealed') throw new Error(`expected sealed, got ${second.result}`);
    expect(first.ciphertext.equals(copy)).toBe(true);
    const made = sealer.slotCount;
    first.release();
    second.release();
    const third = await sealer.seal({ ...a, context, header: null });
    expect(third.result).toBe('sealed');
    expect(sealer.slotCount).toBe(made);
  });

  it('starts its thread at the first record, or earlier when warmed', async () => {
    const lazy = Sealer.start([{ type: 'aes', keyId: 'site-1', key: new Uint8Array(Buffer.from(key, 'base64')) }], worker)!;
    const warmed = Sealer.start([{ type: 'aes', keyId: 'site-1', key: new Uint8Array(Buffer.from(key, 'base64')) }], worker)!;
    try {
      expect(lazy.started).toBe(false);
      warmed.warm();
      expect(warmed.started).toBe(true);
      const f = file('warm.pdf', content);
      expect((await warmed.seal({ ...f, context, header: null })).result).toBe('sealed');
      expect((await lazy.seal({ ...f, context, header: null })).result).toBe('sealed');
      expect(lazy.started).toBe(true);
    } finally {
      await lazy.close();
      await warmed.close();
    }
  });

  it('falls back to the main thread once closed', async () => {
    const f = file('late.pdf', content);
    await sealer.close();
    expect((await sealer.seal({ ...f, context, header: null })).result).toBe('fallback');
    expect(sealer.failure).toBe('closed');
  });
});
