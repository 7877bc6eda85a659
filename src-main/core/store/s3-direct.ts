// PutObject for a record held in memory, and UploadPart for a part of a spooled one, sent without
// the AWS SDK's request pipeline. The SDK still decides where requests go (its endpoint rules,
// evaluated once per writer) and supplies the credentials (the client's own provider, with its
// caching and refresh); requests are signed by sigv4.ts, which signs as the SDK's signer does; this
// file only assembles the headers, sends the bytes and reads the answer.
//
// Why: a backlog of 200 KB reports is limited by the main thread, and the SDK's pipeline (a
// middleware stack, endpoint rules on every request, schema serialisation, XML parsing) cost it
// about 0.8 ms per PutObject when profiled here, of about 1.4 ms for a whole upload. This path costs
// about 0.1 ms plus the socket write. For parts, the body is read from the spool through one
// reused buffer, where a file stream allocates a new one per read: a gigabyte of spooled parts
// made a gigabyte of garbage, which set the peak memory of large uploads. The verifier's listing
// pages come this way too (listPage). Creating, completing, listing and aborting multipart uploads,
// HEAD, full listings and everything else still go through the SDK.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { crc32 } from 'node:zlib';
import type { S3StoreConfig } from '../config/schema.js';
import { forEachChunk } from '../records/file-bytes.js';
import { canonicalQuery, SigV4Signer, uriEncode } from './sigv4.js';
import type { ListPage, ObjectInfo } from './types.js';

export interface DirectPutRequest {
  key: string;
  body: Buffer;
  /** The body's SHA-256 in hex, when already known (the sealing worker computes it). */
  sha256?: string | undefined;
  contentType: string;
  metadata: Record<string, string>;
  /** If-None-Match: * (never replace an object). */
  conditional: boolean;
  signal?: AbortSignal | undefined;
}

export interface DirectPartRequest {
  key: string;
  uploadId: string;
  partNumber: number;
  /** The spool file and the part's place in it. */
  file: string;
  start: number;
  length: number;
  /** The part's CRC32, base64, sent in its header (checksum when-supported). */
  crc32?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Writes a request's body; the request is ended by the caller once it resolves. */
type BodyWriter = (r: http.ClientRequest) => Promise<void>;

/** A 2xx answer: its headers and body. */
interface Answer {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The ETag of a write's answer; null (another signature needed) passes through. */
function etagOf(a: Answer | null): { etag?: string } | null {
  if (!a) return null;
  const { etag } = a.headers;
  return etag ? { etag } : {};
}

/**
 * A refusal from the store, shaped like the SDK's service errors (`name` is S3's error code,
 * `$metadata.httpStatusCode`, `$response.headers`), so errors.ts and the writer read both alike.
 */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $response: { headers: Record<string, string> };

  constructor(code: string, message: string, status: number, headers: Record<string, string>) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
    this.$response = { headers };
  }
}

/** Where PutObject requests for this bucket go, and how they are signed (from the SDK's endpoint rules). */
interface Target {
  url: URL;
  signer: SigV4Signer;
}

/** Path segments as the SDK encodes a key, `/` kept. */
function keyPath(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

/**
 * The x-amz-tagging header: a URL query of the tags. Spaces as %20: URLSearchParams would write
 * `+`, which stores (Ceph RGW at least) keep as a literal plus sign.
 */
export function taggingHeader(tags: Record<string, string>): string {
  return Object.entries(tags).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
}

function setCrc32(headers: Record<string, string>, crc: string): void {
  headers['x-amz-checksum-crc32'] = crc;
  headers['x-amz-sdk-checksum-algorithm'] = 'CRC32';
}

function headerText(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function abortError(): Error {
  return Object.assign(new Error('upload stopped'), { name: 'AbortError' });
}

const fieldPatterns = new Map<string, RegExp>();

/** The raw content of the first `<name>` element in `xml` (made once per name: listings read four per key). */
function xmlField(xml: string, name: string): string | undefined {
  let re = fieldPatterns.get(name);
  if (!re) fieldPatterns.set(name, (re = new RegExp(`<${name}>([^<]*)</${name}>`)));
  return re.exec(xml)?.[1];
}

/** The SHA-256 of no bytes: the payload hash of a GET. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of an XML element's content: entities and character references decoded. */
function xmlText(s: string): string {
  return s.includes('&') ? s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => (e.startsWith('#x')
    ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]!)) : s;
}

const CONTENTS = /<Contents>([\s\S]*?)<\/Contents>/g;

/** A ListObjectsV2 answer: its objects, and whether more pages follow. */
export function parseListPage(xml: string): ListPage {
  const objects: ObjectInfo[] = [];
  for (const [, block] of xml.matchAll(CONTENTS)) {
    const key = xmlField(block!, 'Key');
    if (key === undefined) continue;
    const etag = xmlField(block!, 'ETag');
    const modified = xmlField(block!, 'LastModified');
    objects.push({
      key: xmlText(key), size: Number(xmlField(block!, 'Size') ?? 0), lastModified: modified ? new Date(modified) : new Date(0),
      ...(etag ? { etag: xmlText(etag) } : {}),
    });
  }
  return { objects, truncated: /<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml) };
}

/** The x-amz-checksum-crc32 value of a CRC32: its four bytes, big-endian, in base64. */
export function crc32Header(crc: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

/**
 * Writes `length` bytes of `file` from `start` to the request through one reused buffer: each
 * chunk is read once the write of the one before has called back (gone to the socket, or failed).
 */
function writeFileRange(r: http.ClientRequest, file: string, start: number, length: number): Promise<void> {
  return forEachChunk(file, start, length, (chunk) => new Promise<void>((resolve, reject) => {
    r.write(chunk, (e) => (e ? reject(e) : resolve()));
  }));
}

/** The store's requests that bypass the SDK's pipeline, on one bucket and its kept-alive connections. */
export class DirectS3 {
  private target: Promise<Target | null> | null = null;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  constructor(private readonly client: S3Client, private readonly cfg: S3StoreConfig) {}

  /**
   * Sends one PutObject; returns the ETag the store gave, or null when this store's endpoint needs
   * a signature other than plain SigV4 (the caller then sends through the SDK). A refusal throws
   * an S3ResponseError; a network failure throws Node's own error.
   */
  async put(req: DirectPutRequest): Promise<{ etag?: string } | null> {
    const headers: Record<string, string> = {
      'content-type': req.contentType,
      'content-length': String(req.body.length),
      'x-amz-content-sha256': req.sha256 ?? createHash('sha256').update(req.body).digest('hex'),
    };
    if (req.conditional) headers['if-none-match'] = '*';
    if (this.cfg.checksum === 'when-supported') setCrc32(headers, crc32Header(crc32(req.body)));
    if (this.cfg.sse) headers['x-amz-server-side-encryption'] = this.cfg.sse.type;
    if (this.cfg.sse?.type === 'aws:kms' && this.cfg.sse.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = this.cfg.sse.kmsKeyId;
    if (this.cfg.storageClass) headers['x-amz-storage-class'] = this.cfg.storageClass;
    if (this.cfg.tags) headers['x-amz-tagging'] = taggingHeader(this.cfg.tags);
    for (const [k, v] of Object.entries(req.metadata)) headers[`x-amz-meta-${k.toLowerCase()}`] = v;
    return etagOf(await this.signAndSend('PUT', keyPath(req.key), {}, headers, (r) => { r.write(req.body); return Promise.resolve(); }, req.signal));
  }

  /**
   * Sends one part of a multipart upload from the spool (UploadPart, unsigned payload as the SDK
   * sends a streamed part), read through one reused buffer: each chunk is read only once the one
   * before it has gone to the socket. Returns the part's ETag, or null as `put` does.
   */
  async putPart(req: DirectPartRequest): Promise<{ etag?: string } | null> {
    const headers: Record<string, string> = { 'content-length': String(req.length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    if (req.crc32) setCrc32(headers, req.crc32);
    const query = { partNumber: String(req.partNumber), uploadId: req.uploadId };
    return etagOf(await this.signAndSend('PUT', keyPath(req.key), query, headers, (r) => writeFileRange(r, req.file, req.start, req.length), req.signal));
  }

  /**
   * One ListObjectsV2 page: at most `maxKeys` keys under `prefix` after `startAfter`, with their
   * sizes, ETags and times; null as `put`. The verifier lists a folder in every round of a backlog:
   * through the SDK a page of 250 keys cost the client about 6.5 ms of CPU here (its XML parser most
   * of it), this path about 2 ms (of which the parse below is about 0.5).
   */
  async listPage(prefix: string, startAfter: string, maxKeys: number): Promise<ListPage | null> {
    const query = { 'list-type': '2', prefix, 'start-after': startAfter, 'max-keys': String(maxKeys) };
    const answer = await this.signAndSend('GET', '', query, { 'x-amz-content-sha256': EMPTY_SHA256 }, null, undefined);
    return answer && parseListPage(answer.body.toString('utf8'));
  }

  /**
   * A request for `under` (a key's path, or '' for the bucket itself) with `query`, signed for this
   * bucket's endpoint; null when that endpoint needs another signature.
   */
  private async signAndSend(method: 'PUT' | 'GET', under: string, query: Record<string, string>, headers: Record<string, string>,
    body: BodyWriter | null, signal: AbortSignal | undefined): Promise<Answer | null> {
    const target = await (this.target ??= this.resolve());
    if (!target) return null;
    const { url, signer } = target;
    const path = `${url.pathname.replace(/\/$/, '')}/${under}`;
    const search = canonicalQuery(query);
    const sentPath = search ? `${path}?${search}` : path;
    const toSign = { method, path, query, headers: { host: url.host, ...headers } };
    // The client's provider: cached, and refreshed before temporary credentials expire.
    const creds = await this.client.config.credentials();
    // Only the signature's time differs between attempts.
    for (let attempt = 1; ; attempt++) {
      const offset = this.client.config.systemClockOffset;
      const sentAt = Date.now();
      const signed = signer.sign(toSign, creds, new Date(sentAt + offset));
      try {
        const answer = await this.send(method, url, sentPath, signed, body, signal, true);
        this.sampleClock(answer.headers, sentAt);
        return answer;
      } catch (e) {
        if (!(e instanceof S3ResponseError)) throw e;
        this.sampleClock(e.$response.headers, sentAt);
        // As the SDK does for its own requests: a refusal for the clock, once the offset is learnt
        // from the store's answer, is sent again at once with the corrected time.
        if (attempt > 1 || e.name !== 'RequestTimeTooSkewed' || this.client.config.systemClockOffset === offset) throw e;
      }
    }
  }

  /**
   * Learns how far this machine's clock is from the store's from an answer's Date header, into the
   * SDK client's own `systemClockOffset`: the SDK signs its requests with it and updates it from
   * its own answers the same way, so both paths share one correction. A workstation whose clock is
   * more than 15 minutes off would otherwise have every write refused (RequestTimeTooSkewed).
   * Skipped, as the SDK skips it, for a cached answer (Age) or one that took over 15 minutes.
   */
  private sampleClock(headers: Readonly<Record<string, string | string[] | undefined>>, sentAt: number): void {
    const date = headers['date'];
    if (typeof date !== 'string' || headers['age'] !== undefined) return;
    const server = Date.parse(date);
    const now = Date.now();
    if (Number.isNaN(server) || now - sentAt > 900_000) return;
    this.client.config.systemClockOffset = server - now;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** The bucket's endpoint (requests for every key of a bucket go to the same one). */
  private async resolve(): Promise<Target | null> {
    const endpoint = await getEndpointFromInstructions({ Bucket: this.cfg.bucket, Key: 'k' }, PutObjectCommand, this.client.config);
    const schemes = (endpoint.properties?.['authSchemes'] ?? []) as { name?: string; signingName?: string; signingRegion?: string; disableDoubleEncoding?: boolean }[];
    const scheme = schemes[0];
    if (scheme && scheme.name !== 'sigv4') return null;
    const region = scheme?.signingRegion ?? await this.client.config.region();
    // S3 signs the path as sent; an endpoint that wants it encoded twice goes through the SDK.
    if (scheme?.disableDoubleEncoding === false) return null;
    return { url: new URL(endpoint.url.href), signer: new SigV4Signer(region, scheme?.signingName ?? 's3') };
  }

  private send(method: 'PUT' | 'GET', url: URL, path: string, headers: Record<string, string>, body: BodyWriter | null, signal: AbortSignal | undefined,
    firstTry: boolean): Promise<Answer> {
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Answer>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      const timeout = this.cfg.idleTimeoutSeconds * 1000;
      const r = request({ protocol: url.protocol, hostname: url.hostname, port: url.port || undefined, method, path, headers, agent, timeout }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve({ headers: res.headers, body: Buffer.concat(chunks) });
            return;
          }
          const xml = Buffer.concat(chunks).toString('utf8');
          const code = xmlField(xml, 'Code') ?? (status === 412 ? 'PreconditionFailed' : `HTTP${status}`);
          reject(new S3ResponseError(code, xmlField(xml, 'Message') ?? `the store answered ${status}`, status, headerText(res.headers)));
        });
      });
      r.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the store closed as this request went out: Node's advice is to
        // send again on a fresh one. (With If-None-Match a write that did land answers 412.)
        if (firstTry && r.reusedSocket && e.code === 'ECONNRESET') {
          this.send(method, url, path, headers, body, signal, false).then(resolve, reject);
          return;
        }
        reject(e);
      });
      // Nothing sent or received for that long, from connecting to the answer's end (the SDK's
      // own requests have the same bound, its socketTimeout: see s3.ts).
      r.on('timeout', () => r.destroy(Object.assign(new Error(`no answer from the store for ${this.cfg.idleTimeoutSeconds} s (store.idleTimeoutSeconds)`),
        { name: 'TimeoutError', code: 'ETIMEDOUT' })));
      if (signal) {
        // By hand: http.request's own `signal` option costs more per request than the rest of it.
        const onAbort = () => r.destroy(abortError());
        signal.addEventListener('abort', onAbort, { once: true });
        r.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      if (!body) r.end();
      else body(r).then(() => r.end(), (e: unknown) => r.destroy(e instanceof Error ? e : new Error(String(e))));
    });
  }
}
