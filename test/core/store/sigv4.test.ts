// The direct path's SigV4 signer (sigv4.ts) signs every kind of request it sends exactly as the
// SDK's own signer (@smithy/signature-v4 with S3's settings) does: the same Authorization header,
// byte for byte, for writes, parts and listing pages, with temporary credentials, odd characters,
// folded whitespace, and across a change of day or of credentials. test/store/s3-direct.test.ts
// shows RGW accepting its signatures and refusing a wrong one.
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalQuery, SigV4Signer, uriEncode, type SigningCredentials } from '../../../src-main/core/store/sigv4.js';

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) => (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d));

/** Node's hashes as the SDK's signer wants them (what the direct path gave it before sigv4.ts). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Data) {
    this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: Data): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
  reset(): void {}
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface Case {
  method: 'PUT' | 'GET';
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

async function sdkSignature(c: Case, creds: SigningCredentials, at: Date, region = 'us-east-1'): Promise<Record<string, string>> {
  const sdk = new SignatureV4({ service: 's3', region, credentials: creds, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await sdk.sign({ method: c.method, protocol: 'http:', hostname: '127.0.0.1', port: 7480, path: c.path, query: c.query, headers: { ...c.headers } },
    { signingDate: at });
  return signed.headers;
}

const creds: SigningCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const at = new Date('2026-12-02T15:14:01.123Z');
const keyPath = (key: string) => key.split('/').map(uriEncode).join('/');

const cases: Record<string, Case> = {
  'a conditional write with metadata': {
    method: 'PUT', path: `/bucket/${keyPath('ecg/2026/12/02/Müller (2) + [copy] #1 ~a*b.pdf')}`, query: {},
    headers: {
      host: '127.0.0.1:7480', 'content-type': 'application/octet-stream', 'content-length': '200331',
      'x-amz-content-sha256': 'a3f1'.repeat(16), 'if-none-match': '*',
      'x-amz-meta-medrelay-kind': 'ecg', 'x-amz-meta-medrelay-workstation': 'ws-01', 'x-amz-meta-medrelay-uploaded-at': '2026-12-02T15:14:01.000Z',
      'x-amz-meta-medrelay-format': 'esdk2', 'x-amz-meta-medrelay-job': 'ws-01/123', 'x-amz-meta-medrelay-key-ids': 'aes:site,rsa:it',
      'x-amz-storage-class': 'STANDARD_IA', 'x-amz-tagging': 'dept=cardio%20logy&site=a%2Bb',
      'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:111122223333:key/k',
      'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-sdk-checksum-algorithm': 'CRC32',
    },
  },
  'a part of a multipart upload': {
    method: 'PUT', path: `/bucket/${keyPath('dicom/2026/12/02/1.2.840.10008.5.1.4.1.1.2/series 1.dcm')}`,
    query: { partNumber: '12', uploadId: '2~Xy_z-Ab.c/d+e=f' },
    headers: { host: '127.0.0.1:7480', 'content-length': '16777216', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  },
  'a listing page': {
    method: 'GET', path: '/bucket/',
    query: { 'list-type': '2', prefix: 'ecg/2026/12/02/', 'start-after': "ecg/2026/12/02/O'Brien (x) *+ é 中.pd", 'max-keys': '1000' },
    headers: { host: '127.0.0.1:7480', 'x-amz-content-sha256': EMPTY_SHA256 },
  },
  'header names in capitals, values with runs of whitespace': {
    method: 'PUT', path: '/bucket/a', query: {},
    headers: { Host: '127.0.0.1:7480', 'Content-Type': '  text/plain;   charset=utf-8 ', 'X-Amz-Content-Sha256': EMPTY_SHA256, 'x-amz-meta-note': 'a \t b' },
  },
};

describe('SigV4Signer', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`signs ${name} as the SDK's signer does`, async () => {
      const ours = new SigV4Signer('us-east-1', 's3').sign(c, creds, at);
      const sdk = await sdkSignature(c, creds, at);
      expect(ours['authorization']).toBe(sdk['authorization']);
      expect(ours['x-amz-date']).toBe(sdk['x-amz-date']);
      expect(ours['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261202\/us-east-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
    });
  }

  it('adds and signs the session token of temporary credentials', async () => {
    const temporary = { ...creds, sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDN+token/with+odd=chars' };
    const c = cases['a conditional write with metadata']!;
    const ours = new SigV4Signer('eu-west-1', 's3').sign(c, temporary, at);
    const sdk = await sdkSignature(c, temporary, at, 'eu-west-1');
    expect(ours['x-amz-security-token']).toBe(temporary.sessionToken);
    expect(ours['authorization']).toContain('x-amz-security-token');
    expect(ours['authorization']).toBe(sdk['authorization']);
  });

  it('derives a new signing key when the day or the credentials change', async () => {
    const signer = new SigV4Signer('us-east-1', 's3');
    const c = cases['a listing page']!;
    const rotated = { accessKeyId: 'AKIDROTATED', secretAccessKey: 'another-secret' };
    for (const [when, who] of [
      [new Date('2026-12-02T23:59:59Z'), creds], [new Date('2026-12-03T00:00:01Z'), creds],
      [new Date('2026-12-03T00:00:02Z'), rotated], [new Date('2026-12-03T00:00:03Z'), creds],
    ] as const) {
      expect(signer.sign(c, who, when)['authorization']).toBe((await sdkSignature(c, who, when))['authorization']);
    }
  });

  it('refuses a request without its payload hash rather than sign something the store would reject', () => {
    expect(() => new SigV4Signer('us-east-1', 's3').sign({ method: 'GET', path: '/bucket/', query: {}, headers: { host: 'h' } }, creds, at))
      .toThrow('GET /bucket/: no x-amz-content-sha256 header to sign');
  });

  it('writes the query sorted by encoded name, each part percent-encoded', () => {
    expect(canonicalQuery({ 'start-after': "a b+c/d'*", 'list-type': '2', prefix: 'x/' })).toBe("list-type=2&prefix=x%2F&start-after=a%20b%2Bc%2Fd%27%2A");
  });
});
