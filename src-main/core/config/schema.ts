// The settings schema: one JSON file, validated with zod. Every field says its default and why.
import { z } from 'zod';
import { DEFAULT_LAYOUT, templateProblem, type KeyLayout } from '../../../src-shared/keys.js';

const MB = 1024 * 1024;

const layoutTemplate = (name: keyof KeyLayout) =>
  z.string().superRefine((t, ctx) => {
    const problem = templateProblem(name, t);
    if (problem) ctx.addIssue({ code: 'custom', message: `key template ${problem}` });
  });

export const s3StoreSchema = z.object({
  type: z.literal('s3'),
  bucket: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, 'an S3 bucket name (lower-case letters, digits, dots, hyphens)'),
  region: z.string().min(1),
  /** For S3-compatible stores (R2, MinIO, Ceph RGW). Absent: AWS. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Path-style URLs; most S3-compatible stores need it. */
  forcePathStyle: z.boolean().default(false),
  /** Prepended to every key, without leading or trailing slash. */
  prefix: z.string().regex(/^[^/].*[^/]$|^[^/]?$/, 'a key prefix without leading or trailing "/"').default(''),
  /**
   * `when-required` (default): no flexible checksums unless an operation requires one; works with
   * every S3-compatible store. `when-supported`: the SDK's CRC32 with aws-chunked trailers, which
   * AWS supports and some compatible stores reject.
   */
  checksum: z.enum(['when-required', 'when-supported']).default('when-required'),
  /**
   * Part size: a file larger than this goes as a multipart upload. Parts stream from the spool file,
   * so memory does not grow with it. Default 16 MiB.
   */
  partSizeBytes: z.number().int().min(5 * MB).max(5 * 1024 * MB).default(16 * MB),
  /**
   * Parts of one multipart upload sent at once. Default 2. The agent treats queue.concurrency × this
   * as a budget shared by all uploads, so an upload alone on the wire may send that many.
   */
  partsInFlight: z.number().int().min(1).max(16).default(2),
  /**
   * A request that sends and receives nothing for this many seconds (a connection that went dead,
   * a store that stopped answering) is abandoned and tried again, and the store is probed until it
   * answers. Default 60.
   */
  idleTimeoutSeconds: z.number().min(1).max(3600).default(60),
  /** Server-side encryption on top of (or, with encryption.mode "sse-only", instead of) MedRelay's own. */
  sse: z.discriminatedUnion('type', [
    z.object({ type: z.literal('AES256') }).strict(),
    z.object({ type: z.literal('aws:kms'), kmsKeyId: z.string().min(1).optional() }).strict(),
  ]).optional(),
  /** S3 storage class, e.g. STANDARD_IA. Default: the bucket's. */
  storageClass: z.string().regex(/^[A-Z_]+$/, 'an S3 storage class such as STANDARD_IA').optional(),
  /** Object tags (no PHI: they are cleartext). */
  tags: z.record(z.string().regex(/^[A-Za-z0-9 _.:/=+@-]{1,128}$/), z.string().max(256)).optional(),
}).strict();

export const folderStoreSchema = z.object({
  type: z.literal('folder'),
  /** A local or mounted disk (NAS, EBS, EFS). Relative paths are relative to the config file. */
  path: z.string().min(1),
  prefix: z.string().default(''),
}).strict();

const keyringSchema = z.discriminatedUnion('type', [
  /** A 256-bit site key, in the OS keychain, or in `keyFile` (mode 0600) for headless services. */
  z.object({ type: z.literal('aes'), keyId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a key id (letters, digits, ".", "_", ":", "-")'), keyFile: z.string().min(1).optional() }).strict(),
  /** An RSA public key: this station encrypts but cannot read back what it sent. */
  z.object({ type: z.literal('rsa'), publicKeyFile: z.string().min(1), keyId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional() }).strict(),
  /** An AWS KMS key. */
  z.object({ type: z.literal('kms'), keyArn: z.string().regex(/^arn:aws[a-z-]*:kms:/, 'a KMS key ARN (arn:aws:kms:…)') }).strict(),
]);

export const encryptionSchema = z.object({
  /**
   * `client` (default): every object is encrypted on this workstation with the AWS Encryption SDK.
   * `sse-only`: objects are stored as they are and rely on the store's own encryption; must be set
   * explicitly, and `status` warns about it.
   */
  mode: z.enum(['client', 'sse-only']).default('client'),
  /** Every keyring wraps each object's data key; any one of them can decrypt it. */
  keyrings: z.array(keyringSchema).default([]),
  /** Old key files kept for reading objects written before a rotation. */
  decryptKeyFiles: z.array(z.string().min(1)).default([]),
}).strict().superRefine((e, ctx) => {
  if (e.mode === 'client' && e.keyrings.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['keyrings'], message: 'at least one keyring when mode is "client" (see "medrelay keys init")' });
  }
});

export const watchSchema = z.object({
  path: z.string().min(1),
  kind: z.enum(['ecg', 'dicom', 'auto']),
}).strict();

export const configSchema = z.object({
  /** Where the queue database and logs live. Relative paths are relative to the config file. */
  dataDir: z.string().min(1),
  /** Names this workstation in object metadata. Default: the host name. */
  workstationId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-" (at most 64)').optional(),
  store: z.discriminatedUnion('type', [s3StoreSchema, folderStoreSchema]),
  /** How objects are encrypted. Required: there is no silent plaintext default. */
  encryption: encryptionSchema,
  credentials: z.object({
    /**
     * `keychain`: what `medrelay login` stored in the OS keychain. `env`: AWS_ACCESS_KEY_ID /
     * AWS_SECRET_ACCESS_KEY. `profile`: the SDK's shared config chain (SSO, instance roles).
     */
    source: z.enum(['keychain', 'env', 'profile']),
    profile: z.string().min(1).optional(),
  }).strict().default({ source: 'keychain' }),
  watch: z.array(watchSchema).min(1),
  stability: z.object({
    /** A file is taken only when its size and mtime have not changed for this long. Default 2 s. */
    windowMs: z.number().int().min(50).max(600_000).default(2000),
    /** A file that is stable but still incomplete for this long is reported. Default 5 min. */
    incompleteAfterMs: z.number().int().min(0).default(300_000),
  }).strict().default({ windowMs: 2000, incompleteAfterMs: 300_000 }),
  queue: z.object({
    /** Uploads at once. Default 4. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** First retry delay; doubles each attempt, with full jitter. Default 1 s. */
    retryBaseMs: z.number().int().min(10).default(1000),
    /** Longest retry delay. Default 5 min. */
    retryMaxMs: z.number().int().min(10).default(300_000),
    /** Average upload rate limit, bytes per second. Default: none. */
    maxBytesPerSecond: z.number().int().min(64 * 1024).optional(),
    /** Multipart uploads no job owns are aborted once they are this old. Default 24 h. */
    staleUploadAfterMs: z.number().int().min(0).default(86_400_000),
  }).strict().default({ concurrency: 4, retryBaseMs: 1000, retryMaxMs: 300_000, staleUploadAfterMs: 86_400_000 }),
  /**
   * What happens to a source file once its record is verified in the store: `keep` (default),
   * `archive` (moved under `archiveDir`, keeping its path below the watched folder) or `delete`,
   * `afterDays` days after the upload. Nothing is touched before verification.
   */
  retention: z.object({
    action: z.enum(['keep', 'archive', 'delete']).default('keep'),
    afterDays: z.number().min(0).default(0),
    archiveDir: z.string().min(1).optional(),
  }).strict().superRefine((r, ctx) => {
    if (r.action === 'archive' && !r.archiveDir) ctx.addIssue({ code: 'custom', path: ['archiveDir'], message: 'a folder when action is "archive"' });
  }).default({ action: 'keep', afterDays: 0 }),
  layout: z.object({
    ecgReport: layoutTemplate('ecgReport').default(DEFAULT_LAYOUT.ecgReport),
    ecgPackage: layoutTemplate('ecgPackage').default(DEFAULT_LAYOUT.ecgPackage),
    ecgSignup: layoutTemplate('ecgSignup').default(DEFAULT_LAYOUT.ecgSignup),
    dicom: layoutTemplate('dicom').default(DEFAULT_LAYOUT.dicom),
  }).strict().default(DEFAULT_LAYOUT),
}).strict().superRefine((c, ctx) => {
  for (const [name, template] of Object.entries(c.layout)) {
    if (template.includes('{opaque}') && c.encryption.mode !== 'client') {
      ctx.addIssue({ code: 'custom', path: ['layout', name], message: 'no {opaque} with encryption.mode "sse-only": the original name is kept only inside client-side encrypted objects' });
    }
  }
});

export type Config = z.infer<typeof configSchema>;
export type StoreConfig = Config['store'];
export type S3StoreConfig = z.infer<typeof s3StoreSchema>;
export type FolderStoreConfig = z.infer<typeof folderStoreSchema>;
export type EncryptionConfig = z.infer<typeof encryptionSchema>;
export type KeyringConfig = EncryptionConfig['keyrings'][number];
