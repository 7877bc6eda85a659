// Encryption with the AWS Encryption SDK: round trips, tampering, wrong keys, RSA-only stations.
import { pbkdf2 } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encrypting, encryptionContext, encryptToChunks, FRAME_LENGTH } from '../../../src-main/core/crypto/envelope.js';
import { aesKeyring, buildDecryptKeyring, buildEncryptKeyring } from '../../../src-main/core/crypto/keyrings.js';
import { newAesKey, newRsaPair, readKeyFile, rsaKeyIdOf, writeKeyFile } from '../../../src-main/core/crypto/key-files.js';
import { decryptWithKeyFile } from '../../../src-main/core/crypto/manage.js';
import { writeDecrypted } from '../../../src-main/core/store/record-reader.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir('envelope');
const plain = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < plain.length; i++) plain[i] = (i * 7) & 0xff;

async function encryptFile(keyring: Parameters<typeof encrypting>[0], out: string): Promise<Buffer> {
  await pipeline(Readable.from([plain]), encrypting(keyring, encryptionContext('dicom', 'ws-1')), createWriteStream(out));
  return readFileSync(out);
}

describe('envelope encryption', () => {
  const aesFile = join(dir, 'site.key.json');
  writeKeyFile(aesFile, { medrelayKey: 1, type: 'aes', keyId: 'site-1', key: newAesKey() });
  const site = readKeyFile(aesFile);
  const siteRing = aesKeyring('site-1', Buffer.from((site as { key: string }).key, 'base64'));

  it('round-trips through the recovery path with nothing but the key file', async () => {
    const enc = await encryptFile(siteRing, join(dir, 'a.enc'));
    expect(enc.includes(plain.subarray(0, 64))).toBe(false);
    expect([...enc.subarray(0, 3)]).toEqual([0x02, 0x04, 0x78]); // message v2, committing suite 0x0478
    await decryptWithKeyFile(aesFile, join(dir, 'a.enc'), join(dir, 'a.out'));
    expect(readFileSync(join(dir, 'a.out')).equals(plain)).toBe(true);
  });

  it('encrypts a buffer in memory into the message the stream writes, at every frame boundary', async () => {
    const F = FRAME_LENGTH;
    const sizes: Array<[string, number]> = [['empty', 0], ['one byte', 1], ['frame - 1', F - 1], ['one frame', F], ['frame + 1', F + 1], ['two frames', 2 * F], ['multi-frame', plain.length]];
    for (const [name, size] of sizes) {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 13 + 5) & 0xff;
      const enc = Buffer.concat(await encryptToChunks(siteRing, encryptionContext('ecg-report', 'ws-1'), data));
      expect([...enc.subarray(0, 3)], name).toEqual([0x02, 0x04, 0x78]);
      // Same layout as the SDK's stream: same frames (a final frame, empty after a full one), so same length.
      const streamed: Buffer[] = [];
      for await (const c of Readable.from([data]).pipe(encrypting(siteRing, encryptionContext('ecg-report', 'ws-1'))) as AsyncIterable<Buffer>) streamed.push(c);
      expect(enc.length, name).toBe(Buffer.concat(streamed).length);
      writeFileSync(join(dir, `m-${name}.enc`), enc);
      await decryptWithKeyFile(aesFile, join(dir, `m-${name}.enc`), join(dir, `m-${name}.out`));
      expect(readFileSync(join(dir, `m-${name}.out`)).equals(data), name).toBe(true);
      // A second message of the same plaintext has its own data key and message id.
      const again = Buffer.concat(await encryptToChunks(siteRing, encryptionContext('ecg-report', 'ws-1'), data));
      expect(again.equals(enc), name).toBe(false);
    }
  });

  it('refuses an in-memory message with one byte of a frame flipped', async () => {
    const enc = Buffer.concat(await encryptToChunks(siteRing, encryptionContext('ecg-report', 'ws-1'), plain));
    enc[enc.length - FRAME_LENGTH]! ^= 0x01;
    writeFileSync(join(dir, 'm-flipped.enc'), enc);
    await expect(decryptWithKeyFile(aesFile, join(dir, 'm-flipped.enc'), join(dir, 'm-flipped.out'))).rejects.toThrow(/damaged or was tampered with/);
  });

  it('refuses an object with one byte flipped, and writes nothing', async () => {
    const enc = await encryptFile(siteRing, join(dir, 'b.enc'));
    enc[Math.floor(enc.length / 2)]! ^= 0x01;
    writeFileSync(join(dir, 'b.enc'), enc);
    await expect(decryptWithKeyFile(aesFile, join(dir, 'b.enc'), join(dir, 'b.out'))).rejects.toThrow(/damaged or was tampered with/);
    expect(() => readFileSync(join(dir, 'b.out'))).toThrow(/ENOENT/);
  });

  it('says when none of the keys fits', async () => {
    await encryptFile(siteRing, join(dir, 'c.enc'));
    const other = join(dir, 'other.key.json');
    writeKeyFile(other, { medrelayKey: 1, type: 'aes', keyId: 'site-2', key: newAesKey() });
    await expect(decryptWithKeyFile(other, join(dir, 'c.enc'), join(dir, 'c.out'))).rejects.toThrow(/c\.enc: none of this machine's keys can open it/);
  });

  it('lets an RSA public key encrypt what only the private key can read', async () => {
    const { privatePem, publicPem } = newRsaPair();
    const pub = join(dir, 'reader.pub.pem');
    writeFileSync(pub, publicPem);
    const keyId = rsaKeyIdOf(publicPem);
    const upload = await buildEncryptKeyring({ mode: 'client', keyrings: [{ type: 'rsa', publicKeyFile: pub }], decryptKeyFiles: [] }, null);
    await encryptFile(upload, join(dir, 'd.enc'));
    // The upload station holds only the public key: it has nothing to decrypt with.
    expect(await buildDecryptKeyring({ mode: 'client', keyrings: [{ type: 'rsa', publicKeyFile: pub }], decryptKeyFiles: [] }, null)).toBeNull();
    await expect(writeDecrypted(createReadStream(join(dir, 'd.enc')), 'esdk2', null, join(dir, 'd.out'), 'd.enc')).rejects.toThrow(/holds no key/);
    const priv = join(dir, 'reader.key.json');
    writeKeyFile(priv, { medrelayKey: 1, type: 'rsa-private', keyId, pem: privatePem });
    await decryptWithKeyFile(priv, join(dir, 'd.enc'), join(dir, 'd.out'));
    expect(readFileSync(join(dir, 'd.out')).equals(plain)).toBe(true);
  });

  it('wraps one data key under every configured keyring, so either key opens it', async () => {
    const { privatePem, publicPem } = newRsaPair();
    const pub = join(dir, 'both.pub.pem');
    writeFileSync(pub, publicPem);
    const both = await buildEncryptKeyring({ mode: 'client', keyrings: [{ type: 'aes', keyId: 'site-1', keyFile: aesFile }, { type: 'rsa', publicKeyFile: pub }], decryptKeyFiles: [] }, null);
    await encryptFile(both, join(dir, 'e.enc'));
    await decryptWithKeyFile(aesFile, join(dir, 'e.enc'), join(dir, 'e1.out'));
    const priv = join(dir, 'both.key.json');
    writeKeyFile(priv, { medrelayKey: 1, type: 'rsa-private', keyId: rsaKeyIdOf(publicPem), pem: privatePem });
    await decryptWithKeyFile(priv, join(dir, 'e.enc'), join(dir, 'e2.out'));
    expect(readFileSync(join(dir, 'e1.out')).equals(plain) && readFileSync(join(dir, 'e2.out')).equals(plain)).toBe(true);
    // The in-memory writer (what the seal worker uses) wraps it under both as well.
    writeFileSync(join(dir, 'e-mem.enc'), Buffer.concat(await encryptToChunks(both, encryptionContext('ecg-report', 'ws-1'), plain)));
    await decryptWithKeyFile(aesFile, join(dir, 'e-mem.enc'), join(dir, 'e3.out'));
    await decryptWithKeyFile(priv, join(dir, 'e-mem.enc'), join(dir, 'e4.out'));
    expect(readFileSync(join(dir, 'e3.out')).equals(plain) && readFileSync(join(dir, 'e4.out')).equals(plain)).toBe(true);
  });

  it('refuses a key file other users can read', () => {
    const loose = join(dir, 'loose.key.json');
    writeFileSync(loose, readFileSync(aesFile), { mode: 0o644 });
    expect(() => readKeyFile(loose)).toThrow(/readable by other users \(mode 644\); run: chmod 600/);
  });

  it('is done with a frame-sized chunk when its write callback fires, so the reader may reuse the buffer', async () => {
    // A reader feeding the stream from two buffers that take turns may rely on this.
    const cipher = encrypting(siteRing, encryptionContext('dicom', 'ws-1'));
    const out: Buffer[] = [];
    const drained = (async () => { for await (const c of cipher as AsyncIterable<Buffer>) out.push(c); })();
    const buf = Buffer.alloc(FRAME_LENGTH);
    for (let off = 0; off < plain.length; off += FRAME_LENGTH) {
      const chunk = buf.subarray(0, plain.copy(buf, 0, off, Math.min(plain.length, off + FRAME_LENGTH)));
      await new Promise<void>((resolve, reject) => cipher.write(chunk, (e) => (e ? reject(e) : resolve())));
      if (chunk.length === FRAME_LENGTH) buf.fill(0xee); // the last, partial frame stays with the SDK until end()
    }
    cipher.end();
    await drained;
    writeFileSync(join(dir, 'f.enc'), Buffer.concat(out));
    await decryptWithKeyFile(aesFile, join(dir, 'f.enc'), join(dir, 'f.out'));
    expect(readFileSync(join(dir, 'f.out')).equals(plain)).toBe(true);
  });

  it('draws data keys without libuv\'s thread pool: sealing goes on while slow file calls hold every pool thread', async () => {
    const { publicPem } = newRsaPair();
    const pub = join(dir, 'pool.pub.pem');
    writeFileSync(pub, publicPem);
    const both = await buildEncryptKeyring({ mode: 'client', keyrings: [{ type: 'aes', keyId: 'site-1', keyFile: aesFile }, { type: 'rsa', publicKeyFile: pub }], decryptKeyFiles: [] }, null);
    // Stand-ins for file calls stuck on a hung network share: one long job per pool thread.
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    let poolFreed = false;
    const held = Array.from({ length: threads }, () => new Promise<void>((resolve) => {
      pbkdf2('held', 'pool', 400_000, 64, 'sha512', () => { poolFreed = true; resolve(); });
    }));
    const sealed: Buffer[] = [];
    for (const ring of [siteRing, both]) {
      sealed.push(Buffer.concat(await encryptToChunks(ring, encryptionContext('ecg-report', 'ws-1'), plain.subarray(0, 1000))));
    }
    expect(poolFreed).toBe(false);
    await Promise.all(held);
    // What was sealed meanwhile opens with the site key.
    for (const [i, message] of sealed.entries()) {
      writeFileSync(join(dir, `pool-${i}.enc`), message);
      await decryptWithKeyFile(aesFile, join(dir, `pool-${i}.enc`), join(dir, `pool-${i}.out`));
      expect(readFileSync(join(dir, `pool-${i}.out`)).equals(plain.subarray(0, 1000))).toBe(true);
    }
  });

  it('keeps plaintext out of the cleartext encryption context', () => {
    expect(encryptionContext('ecg-report', 'ws-1')).toEqual({ 'medrelay-format': '1', 'medrelay-kind': 'ecg-report', 'medrelay-workstation': 'ws-1' });
  });
});
