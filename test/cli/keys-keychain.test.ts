// Keys and credentials in a real Secret Service (gnome-keyring in the private D-Bus session that
// scripts/test starts): login, key creation, uploads, rotation, RSA-only stations, recovery.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSampleRecords } from '../../src-main/core/demo/samples.js';
import { runCli } from '../support/cli.js';
import { freshBucket, listRecordKeys, s3Config, testS3Client } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';

if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
  throw new Error('these tests need a Secret Service: run them through scripts/test (a private D-Bus session with gnome-keyring)');
}

/** An environment with no AWS credentials: everything must come from the keychain. */
function bareEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  return env;
}

function writeConfig(dir: string, bucket: string, encryption: unknown): string {
  const s3 = s3Config();
  const file = join(dir, 'medrelay.json');
  writeFileSync(file, JSON.stringify({
    dataDir: 'data', workstationId: 'ws-kc',
    store: { type: 's3', bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, storageClass: 'STANDARD_IA', tags: { site: 'test' } },
    encryption, credentials: { source: 'keychain' },
    watch: [{ path: 'inbox/ecg', kind: 'ecg' }, { path: 'inbox/dicom', kind: 'dicom' }],
    stability: { windowMs: 200, incompleteAfterMs: 200 },
  }, null, 2));
  return file;
}

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const r = await testS3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** A command that must succeed; its output says why when it does not. */
function expectOk(r: { code: number | null; stdout: string; stderr: string }): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
}

/** Every file under `dir`, for the secret scan. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []);
}

describe('keys and credentials in the OS keychain', () => {
  it('logs in, encrypts with a keychain key, rotates, recovers offline, and leaves no secret in a file', async () => {
    const dir = tempDir('keychain');
    const outside = tempDir('escrow');
    const bucket = await freshBucket('kc');
    const keyId = `kc-${randomBytes(3).toString('hex')}`;
    const config = writeConfig(dir, bucket, { keyrings: [{ type: 'aes', keyId }] });
    const env = bareEnv();

    expectOk(await runCli(['keys', 'init', '--key-id', keyId], { env }));
    const s3 = s3Config();
    expectOk(await runCli(['login', '--config', config, '--access-key-id', s3.accessKeyId], { env, input: `${s3.secretAccessKey}\n` }));

    const files = await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 8, 9, 8, 0, 0));
    const once = await runCli(['agent', '--config', config, '--once'], { env });
    expect(once.code, once.stdout + once.stderr).toBe(0);
    const key = 'ecg-reports/2024/09/09/ECG_Report_20240909_080000.pdf';
    const head = await testS3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.Metadata).toMatchObject({ 'medrelay-format': 'esdk2', 'medrelay-key-ids': `aes:${keyId}` });
    expect(head.StorageClass).toBe('STANDARD_IA');
    const stored = await objectBytes(bucket, key);
    const original = readFileSync(files[0]!);
    expect(stored.includes(original.subarray(0, 32))).toBe(false);

    const back = join(dir, 'back.pdf');
    expectOk(await runCli(['get', '--config', config, '--key', key, '--out', back], { env }));
    expect(readFileSync(back).equals(original)).toBe(true);

    // Recovery: the key exported to a file, the object downloaded, no configuration.
    const escrow = join(outside, 'site.key.json');
    expectOk(await runCli(['keys', 'export', '--key-id', keyId, '--file', escrow], { env }));
    expect(statSync(escrow).mode & 0o777).toBe(0o600);
    writeFileSync(join(outside, 'object.bin'), stored);
    const rec = await runCli(['decrypt', '--key-file', escrow, join(outside, 'object.bin'), join(outside, 'object.pdf')], { env: bareEnv() });
    expect(rec.code, rec.stderr).toBe(0);
    expect(readFileSync(join(outside, 'object.pdf')).equals(original)).toBe(true);

    // Rotation: new uploads use the new key, the old object still opens.
    const rotate = await runCli(['keys', 'rotate', '--config', config], { env });
    expect(rotate.code, rotate.stderr).toBe(0);
    const newKeyId = (JSON.parse(readFileSync(config, 'utf8')) as { encryption: { keyrings: { keyId: string }[] } }).encryption.keyrings[0]!.keyId;
    expect(newKeyId).not.toBe(keyId);
    await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 8, 10, 8, 0, 0));
    expectOk(await runCli(['agent', '--config', config, '--once'], { env }));
    const newKey = 'ecg-reports/2024/09/10/ECG_Report_20240910_080000.pdf';
    const newHead = await testS3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: newKey }));
    expect(newHead.Metadata?.['medrelay-key-ids']).toBe(`aes:${newKeyId}`);
    const oldBack = join(dir, 'old-back.pdf');
    expectOk(await runCli(['get', '--config', config, '--key', key, '--out', oldBack], { env }));
    expect(readFileSync(oldBack).equals(original)).toBe(true);

    // One flipped byte: a clear refusal, no output file.
    const tampered = Buffer.from(stored);
    tampered[tampered.length - 100]! ^= 0x01;
    await testS3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: tampered, Metadata: head.Metadata }));
    const bad = await runCli(['get', '--config', config, '--key', key, '--out', join(dir, 'bad.pdf')], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/damaged or was tampered with/);

    // No secret in any file the app wrote, the config or the logs.
    const secrets = [s3.secretAccessKey];
    for (const id of [keyId, newKeyId]) {
      const f = join(outside, `${id}.export.json`);
      await runCli(['keys', 'export', '--key-id', id, '--file', f], { env });
      const k = Buffer.from((JSON.parse(readFileSync(f, 'utf8')) as { key: string }).key, 'base64');
      secrets.push(k.toString('base64'), k.toString('hex'), k.toString('latin1'));
    }
    const scanned = allFiles(dir);
    expect(scanned.some((f) => f.endsWith('agent.log'))).toBe(true);
    expect(scanned.some((f) => f.endsWith('medrelay.db'))).toBe(true);
    for (const f of scanned) {
      const bytes = readFileSync(f).toString('latin1');
      for (const secret of secrets) expect(bytes.includes(secret), `${f} holds a secret`).toBe(false);
    }
    expect(await listRecordKeys(testS3Client(), bucket)).toHaveLength(files.length * 2);
  });

  it('lets an RSA-only upload station send records it cannot read; the reading station reads them', async () => {
    const dir = tempDir('rsa-station');
    const reader = tempDir('rsa-reader');
    const bucket = await freshBucket('rsa');
    const pub = join(dir, 'reader.pub.pem');
    const priv = join(reader, 'reader.key.json');
    expectOk(await runCli(['keys', 'init', '--rsa', '--out', pub, '--file', priv]));
    const config = writeConfig(dir, bucket, { keyrings: [{ type: 'rsa', publicKeyFile: pub }] });
    const s3 = s3Config();
    expectOk(await runCli(['login', '--config', config, '--access-key-id', s3.accessKeyId], { input: `${s3.secretAccessKey}\n` }));
    const files = await writeSampleRecords(join(dir, 'inbox'), new Date(2024, 8, 11, 8, 0, 0));
    expectOk(await runCli(['agent', '--config', config, '--once'], { env: bareEnv() }));
    const key = 'ecg-reports/2024/09/11/ECG_Report_20240911_080000.pdf';
    const denied = await runCli(['get', '--config', config, '--key', key, '--out', join(dir, 'x.pdf')], { env: bareEnv() });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/none of this machine's keys can open it|holds no key/);
    // The reading station imports its private key into its keychain and reads.
    expectOk(await runCli(['keys', 'import', '--key-file', priv]));
    expectOk(await runCli(['get', '--config', config, '--key', key, '--out', join(reader, 'x.pdf')], { env: bareEnv() }));
    expect(readFileSync(join(reader, 'x.pdf')).equals(readFileSync(files[0]!))).toBe(true);
  });
});
