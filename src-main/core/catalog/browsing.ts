// The browsing side of the agent in one place: catalog, preview, save, share and the index
// writer, built from the resolved config, and the AppApi methods they answer (each a Result).
import type { KeyringNode } from '@aws-crypto/material-management-node';
import type { AppApi } from '../../../src-shared/api.js';
import { fail, ok, type Result } from '../../../src-shared/result.js';
import type { ResolvedConfig } from '../config/load.js';
import { DecryptError } from '../crypto/envelope.js';
import { KeyError } from '../crypto/key-files.js';
import type { Db } from '../db/open.js';
import type { RecordReader } from '../store/record-reader.js';
import { StoreError, type ObjectStore } from '../store/types.js';
import { Catalog } from './catalog.js';
import { IndexWriter } from './index-writer.js';
import { recordBytes, saveRecordAs } from './preview.js';
import { Sharer } from './share.js';

type BrowseMethods = Pick<AppApi, 'listCalendar' | 'openDay' | 'searchRecords' | 'previewRecord' | 'saveRecord' | 'shareRecord'>;

export async function asResult<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await f());
  } catch (e) {
    if (e instanceof StoreError) return fail(e.code, e.message);
    if (e instanceof DecryptError || e instanceof KeyError) return fail('auth', e.message);
    return fail('internal', e instanceof Error ? e.message : String(e));
  }
}

export class Browsing {
  readonly catalog: Catalog;
  /** The day index writer; the queue calls `index.recordDelivered(job)` once a job's object is committed. */
  readonly index: IndexWriter;
  readonly sharer: Sharer;

  constructor(db: Db, private readonly store: ObjectStore, private readonly records: RecordReader, config: ResolvedConfig,
    opts: { now?: () => number; log?: (m: string) => void } = {}) {
    const prefix = config.store.prefix ?? '';
    this.decryptKeys = records.decryptKeys;
    this.catalog = new Catalog(db, store, { layout: config.layout, prefix, encryption: config.encryption, decryptKeys: this.decryptKeys, ...(opts.now ? { now: opts.now } : {}) });
    this.index = new IndexWriter(db, store, { workstationId: config.workstationId, prefix, ...(opts.now ? { now: opts.now } : {}), ...(opts.log ? { log: opts.log } : {}) });
    this.sharer = new Sharer(store, { prefix, workstationId: config.workstationId, keyring: this.decryptKeys, ...(opts.now ? { now: opts.now } : {}) });
  }

  /** Every key this machine decrypts with: the record reader's (RecordReader.decryptKeys). */
  readonly decryptKeys: () => Promise<KeyringNode | null>;

  readonly api: BrowseMethods = {
    listCalendar: ({ under }) => asResult(() => this.catalog.calendar(under ?? null)),
    openDay: ({ date, refresh, offset, limit }) => asResult(() => this.catalog.openDay(date, {
      ...(refresh !== undefined ? { refresh } : {}), ...(offset !== undefined ? { offset } : {}), ...(limit !== undefined ? { limit } : {}),
    })),
    searchRecords: (q) => asResult(() => this.catalog.search(q)),
    previewRecord: ({ key, maxBytes }) => asResult(() => recordBytes(this.store, this.decryptKeys, key, maxBytes)),
    saveRecord: ({ key, path }) => asResult(() => saveRecordAs(this.records, key, path)),
    shareRecord: ({ key, expiresInSeconds }) => asResult(() => this.sharer.share(key, expiresInSeconds)),
  };
}
