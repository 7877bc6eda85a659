// Turns what the AWS SDK, Node's network stack and the file system throw into StoreErrors with a
// code a person can act on, and decides what is worth retrying.
import { StoreError } from './types.js';

const AUTH_NAMES = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken',
  'TokenRefreshRequired', 'CredentialsProviderError', 'AllAccessDisabled', 'InvalidClientTokenId',
  'UnrecognizedClientException', 'AuthorizationHeaderMalformed',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const THROTTLE_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'ServiceUnavailable',
  'InternalError']);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
  $retryable?: unknown;
}

function networkCode(e: SdkLikeError, depth = 0): string | undefined {
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  if (/socket hang up|ECONNRESET|ECONNREFUSED|other side closed/i.test(e.message ?? '')) return 'connection';
  if (e.cause && typeof e.cause === 'object' && depth < 4) return networkCode(e.cause as SdkLikeError, depth + 1);
  return undefined;
}

function retryAfterMs(e: SdkLikeError): number | undefined {
  const raw = e.$response?.headers?.['retry-after'];
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** `where` names the store or key, so the sentence says what failed. */
export function toStoreError(error: unknown, where: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = (error ?? {}) as SdkLikeError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const detail = e.message || name || String(error);
  // 403 like a refusal of the credentials, but it is the workstation's clock: the SDK and the
  // direct path (s3-direct.ts) correct for it from the store's answer and send again; what still
  // fails that way is worth another try, and names the clock.
  if (name === 'RequestTimeTooSkewed') {
    return new StoreError('network', `${where}: the store refused the request's time: this computer's clock differs from the store's by more than 15 minutes (check the clock and time zone); trying again`, true);
  }
  if (AUTH_NAMES.has(name) || status === 401 || status === 403) {
    return new StoreError('auth', `${where}: access refused (${name || status}): check the credentials and their permissions`, false);
  }
  if (name === 'MissingContentLength' || status === 411) {
    return new StoreError('internal', `${where}: the store refused the request's checksum encoding (${name || status}); set "store.checksum" to "when-required"`, false);
  }
  if (name === 'NoSuchBucket') {
    return new StoreError('not-found', `${where}: the bucket does not exist (setting "store.bucket")`, false);
  }
  const fsErr = error as { code?: string; path?: unknown };
  if (typeof fsErr.path === 'string' && (fsErr.code === 'ENOENT' || fsErr.code === 'EACCES' || fsErr.code === 'EPERM')) {
    return new StoreError('not-found', `${where}: cannot read ${fsErr.path} (${fsErr.code}): the file vanished or is not readable`, false);
  }
  if (name === 'AbortError') return new StoreError('network', `${where}: upload stopped`, true);
  const net = networkCode(e);
  if (net || name === 'TimeoutError' || name === 'RequestTimeoutException') {
    return new StoreError('network', `${where}: store unreachable (${net ?? name}): ${detail}`, true, undefined, 'unreachable');
  }
  if (name === 'ConditionalRequestConflict' || (status === 409 && name !== 'BucketAlreadyExists')) {
    return new StoreError('network', `${where}: another write to the same key was in progress (${name || status}); trying again`, true, 1000);
  }
  if (THROTTLE_NAMES.has(name) || status === 429 || (status !== undefined && status >= 500)) {
    return new StoreError('network', `${where}: store busy or failing (${name || status}): ${detail}`, true, retryAfterMs(e), 'throttled');
  }
  if (status === 400 && (name === 'BadDigest' || name === 'IncompleteBody' || name === 'InvalidDigest')) {
    return new StoreError('network', `${where}: data damaged in transit (${name})`, true);
  }
  return new StoreError('internal', `${where}: ${name ? `${name}: ` : ''}${detail}`, true);
}
