// AWS Signature Version 4 for the requests that bypass the SDK's pipeline (s3-direct.ts): the
// Authorization header of one request, signed with its headers, as the SDK's own signer
// (@smithy/signature-v4, with S3's settings: the path as given, the payload hash taken from
// x-amz-content-sha256) signs it; test/store/sigv4.test.ts compares the two request by request.
//
// Why not the SDK's signer: it costs a backlog of 200 KB reports about a fifth of a millisecond of
// the main thread's CPU per upload when profiled here (perf, in a B run: several promises per
// request, an HMAC of the credentials on every call to find its cached signing key, the headers
// copied and canonicalised generically), where this costs a few tens of microseconds: one SHA-256 of
// the canonical request and one HMAC, the signing key derived once a day per credentials.
import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface RequestToSign {
  method: string;
  /** The path exactly as sent (already percent-encoded; S3 does not encode it again for signing). */
  path: string;
  /** Query parameters, not yet encoded. */
  query: Readonly<Record<string, string>>;
  /** `host` and `x-amz-content-sha256` among them (names in any case; signed and sent in lower case). */
  headers: Readonly<Record<string, string>>;
}

/** RFC 3986 percent-encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string of `query`, sorted by encoded name, as signed and as sent. */
export function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.entries(query).map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
}

/** `20261202T151400Z`: the x-amz-date of `at`. */
function amzDate(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export class SigV4Signer {
  /** The last signing key derived: valid for one day, region, service and secret. */
  private key: { scope: string; secret: string; value: Buffer } | null = null;

  constructor(private readonly region: string, private readonly service: string) {}

  /**
   * The request's headers with x-amz-date, x-amz-security-token (temporary credentials) and
   * Authorization added; every header given is signed.
   */
  sign(req: RequestToSign, creds: SigningCredentials, at: Date = new Date()): Record<string, string> {
    const date = amzDate(at);
    const scope = `${date.slice(0, 8)}/${this.region}/${this.service}/aws4_request`;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
    const payloadHash = headers['x-amz-content-sha256'];
    if (!payloadHash) throw new Error(`${req.method} ${req.path}: no x-amz-content-sha256 header to sign`);
    headers['x-amz-date'] = date;
    if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(';');
    let canonical = `${req.method}\n${req.path}\n${canonicalQuery(req.query)}\n`;
    for (const n of names) canonical += `${n}:${headers[n]!.trim().replace(/\s+/g, ' ')}\n`;
    canonical += `\n${signedHeaders}\n${payloadHash}`;
    const toSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(scope, creds.secretAccessKey)).update(toSign).digest('hex');
    headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(scope: string, secret: string): Buffer {
    if (this.key?.scope === scope && this.key.secret === secret) return this.key.value;
    let value = createHmac('sha256', `AWS4${secret}`).update(scope.slice(0, 8)).digest();
    for (const part of [this.region, this.service, 'aws4_request']) value = createHmac('sha256', value).update(part).digest();
    this.key = { scope, secret, value };
    return value;
  }
}
