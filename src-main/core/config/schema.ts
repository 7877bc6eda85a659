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
   * Part size: a file larger than this goes as a multipart upload. Memory cost: about
   * partSize × partsInFlight per upload in flight. Default 16 MiB.
   */
  partSizeBytes: z.number().int().min(5 * MB).max(5 * 1024 * MB).default(16 * MB),
  /** Parts of one multipart upload sent at once. Default 2. */
  partsInFlight: z.number().int().min(1).max(16).default(2),
}).strict();

export const folderStoreSchema = z.object({
  type: z.literal('folder'),
  /** A local or mounted disk (NAS, EBS, EFS). Relative paths are relative to the config file. */
  path: z.string().min(1),
  prefix: z.string().default(''),
}).strict();

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
  credentials: z.object({
    /** `env`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. `profile`: the SDK's shared config chain. */
    source: z.enum(['env', 'profile']),
    profile: z.string().min(1).optional(),
  }).strict().default({ source: 'env' }),
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
  }).strict().default({ concurrency: 4, retryBaseMs: 1000, retryMaxMs: 300_000 }),
  layout: z.object({
    ecgReport: layoutTemplate('ecgReport').default(DEFAULT_LAYOUT.ecgReport),
    ecgPackage: layoutTemplate('ecgPackage').default(DEFAULT_LAYOUT.ecgPackage),
    ecgSignup: layoutTemplate('ecgSignup').default(DEFAULT_LAYOUT.ecgSignup),
    dicom: layoutTemplate('dicom').default(DEFAULT_LAYOUT.dicom),
  }).strict().default(DEFAULT_LAYOUT),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type StoreConfig = Config['store'];
export type S3StoreConfig = z.infer<typeof s3StoreSchema>;
export type FolderStoreConfig = z.infer<typeof folderStoreSchema>;
