// Browsing an S3 store without reading every object: one-level (delimiter) listings for the
// calendar, and presigned GET links. Functions of the client; the S3 store forwards to them.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { toStoreError } from './errors.js';
import { StoreError, type PrefixListing } from './types.js';

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** The sub-prefixes and keys directly under `prefix`, across every page (no cut-off at 1,000). */
export async function listS3Prefixes(client: S3Client, bucket: string, prefix: string, delimiter = '/'): Promise<PrefixListing> {
  const out: PrefixListing = { prefixes: [], objects: [] };
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }));
    } catch (e) {
      throw toStoreError(e, `listing s3://${bucket}/${prefix}`);
    }
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.prefixes.push(p.Prefix);
    for (const o of page.Contents ?? []) {
      if (o.Key) out.objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * A presigned GET URL for one object; signing is local, the object is not checked here. Signed at
 * the store's time once the client has had an answer from it (callers look the object up first).
 */
export async function presignS3Get(client: S3Client, bucket: string, key: string, expiresInSeconds: number): Promise<string> {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
    throw new StoreError('bad-input', `a link to s3://${bucket}/${key} must expire within 1 second to 7 days, not ${expiresInSeconds} s`, false);
  }
  try {
    // The store's time, as the client learnt it from its answers (the presigner itself takes this
    // machine's clock: a workstation an hour slow would hand out links that had already expired).
    // The offset comes from Date headers, to the second: a clock within seconds of the store's is
    // left alone, or a link valid for a second could be expired before it is used.
    const offset = client.config.systemClockOffset;
    const signingDate = new Date(Date.now() + (Math.abs(offset) > 5_000 ? offset : 0));
    return await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds, signingDate });
  } catch (e) {
    throw toStoreError(e, `signing a link to s3://${bucket}/${key}`);
  }
}
