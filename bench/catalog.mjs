// Browsing benchmark: cold listing of a 10,000-file day (the encrypted day index read from the
// store; written as a trickle with and without packs, and in bursts), warm re-open from the SQLite catalog, refresh of an unchanged day, search over a month.
//
//   npm run build && node bench/catalog.mjs [--files 10000] [--month-files 1000] [--days 30] [--rsa] [--keep] [--out FILE]
//
// Starts its own Ceph RGW (memstore) on 127.0.0.1 with scripts/rgw.sh and always stops it; set
// MEDRELAY_BENCH_S3_ENDPOINT, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY (and _REGION) to use another store.
// Record objects are small stand-ins (the catalog lists records and never opens them); index
// entries are written by the real IndexWriter, encrypted with a real site key.
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => import(join(ROOT, 'dist/src-main/core', p));
const [{ Catalog }, { IndexWriter }, { mapLimit }, { BrowsableS3Store }, { openDatabase }, { parseConfig }, { s3StoreSchema },
  { buildEncryptKeyring, keyIdOf }, { newAesKey, newRsaPair, rsaKeyIdOf, writeKeyFile }, { CatalogRepository }] = await Promise.all([
  dist('catalog/catalog.js'), dist('catalog/index-writer.js'), dist('catalog/pool.js'), dist('store/s3-listing.js'), dist('db/open.js'),
  dist('config/load.js'), dist('config/schema.js'), dist('crypto/keyrings.js'), dist('crypto/key-files.js'), dist('catalog/repository.js'),
]);

const { values: opt } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' }, 'month-files': { type: 'string', default: '1000' }, days: { type: 'string', default: '30' },
    rsa: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  process.stdout.write('node bench/catalog.mjs [--files 10000] [--month-files 1000] [--days 30] [--rsa] [--keep] [--out FILE]\n');
  process.exit(0);
}
const FILES = Number(opt.files);
const MONTH_FILES = Number(opt['month-files']);
const DAYS = Number(opt.days);

const log = (m) => process.stderr.write(`[catalog-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const ms = (t0) => Math.round(performance.now() - t0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rgw(args, env = process.env) {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(ROOT, 'scripts/rgw.sh'), ...args], { env, timeout: 240_000 }, (e, stdout, stderr) => (e ? reject(new Error(stderr || e.message)) : resolve(stdout)));
  });
}

async function openStore(dir) {
  const e = process.env;
  if (e.MEDRELAY_BENCH_S3_ENDPOINT) {
    return { endpoint: e.MEDRELAY_BENCH_S3_ENDPOINT, accessKeyId: e.MEDRELAY_BENCH_S3_ACCESS_KEY_ID, secretAccessKey: e.MEDRELAY_BENCH_S3_SECRET_ACCESS_KEY, region: e.MEDRELAY_BENCH_S3_REGION ?? 'us-east-1', kind: 'external', stop: async () => {} };
  }
  const where = join(dir, 'rgw');
  mkdirSync(where);
  const info = JSON.parse((await rgw(['start', where], { ...process.env, RGW_OWNER_PID: String(process.pid) })).trim().split('\n').at(-1));
  return { ...info, kind: 'rgw-memstore', stop: () => rgw(['stop', where]) };
}

/** A client that counts the requests it sends, per command. */
function client(store) {
  const c = new S3Client({ endpoint: store.endpoint, region: store.region, forcePathStyle: true, credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey } });
  const counts = {};
  c.middlewareStack.add((next, ctx) => async (args) => { counts[ctx.commandName] = (counts[ctx.commandName] ?? 0) + 1; return next(args); }, { step: 'initialize' });
  return { c, counts, reset: () => { for (const k of Object.keys(counts)) delete counts[k]; } };
}

function station(dir, name, store, bucket, encryption) {
  const { c, counts, reset } = client(store);
  const config = parseConfig({
    dataDir: join(dir, name), workstationId: name, watch: [{ path: 'inbox', kind: 'auto' }], credentials: { source: 'env' },
    store: { type: 's3', bucket, region: store.region, endpoint: store.endpoint, forcePathStyle: true }, encryption,
  }, dir);
  const s3 = new BrowsableS3Store(c, s3StoreSchema.parse(config.store));
  return { name, client: c, counts, reset, config, store: s3, db: openDatabase(join(config.dataDir, 'medrelay.db')) };
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
const sha = (i) => i.toString(16).padStart(64, '0');

/** One day's files: ~half ECG (reports + sidecars, packages, signups), ~half DICOM (studies of 4 series). */
function dayFiles(date, count, salt) {
  const [y, m, d] = date.split('-');
  const E = `ecg-reports/${y}/${m}/${d}`;
  const D = `dicom/${y}/${m}/${d}`;
  const out = [];
  const ecg = Math.floor(count / 2);
  for (let i = 0; out.length < ecg; i++) {
    const s = 6 * 3600 + i * 2;
    const t = `${y}${m}${d}_${pad(Math.floor(s / 3600))}${pad(Math.floor(s / 60) % 60)}${pad(s % 60)}`;
    const who = { patientId: `P${(i * 7 + salt) % 5000}`, patientName: `FAMILY${(i * 7 + salt) % 5000}^GIVEN${i % 97}` };
    const names = i % 3 === 0 ? [`ECG_Report_${t}.pdf`, `ECG_Report_${t}.json`].map((n) => [n, `${E}/${n}`, 'ecg-report'])
      : i % 3 === 1 ? [`ECG_Report_${t}.pdf`, `patient_details_${t}.json`, `ecg_data_${t}.json`].map((n) => [n, `${E}/${t}/${n}`, 'ecg-package'])
        : [[`user_signup_${1717390800 + i}.json`, `${E}/user_signup_${1717390800 + i}.json`, 'ecg-signup']];
    for (const [fileName, key, kind] of names) if (out.length < ecg) out.push({ key, kind, date, fileName, ...(kind === 'ecg-signup' ? {} : who) });
  }
  for (let s = 0; out.length < count; s++) {
    const study = `1.2.826.0.1.${salt}.${s}`;
    for (let k = 1; k <= 4 && out.length < count; k++) {
      for (let i = 1; i <= 25 && out.length < count; i++) {
        out.push({ key: `${D}/${study}/${study}.${k}/${study}.${k}.${i}.dcm`, kind: 'dicom', date, fileName: `IM${k}_${i}.dcm`, patientId: `D${(s + salt) % 5000}`, patientName: `DICOM^PATIENT${(s + salt) % 5000}`, modality: ['CT', 'MR', 'US', 'SR'][k - 1], studyDescription: `STUDY ${s}`, studyUid: study, seriesUid: `${study}.${k}` });
      }
    }
  }
  return out;
}

/**
 * Stores the files and their index entries. `flushEvery`: entries per flush (a trickle flushes
 * after every few files, so packs form every `packAfter` small objects, as in the agent).
 */
async function upload(writer, uploader, bucket, files, { maxEntries, packAfter = 64, flushEvery = files.length }, n0) {
  await mapLimit(files, 48, (f) => uploader.client.send(new PutObjectCommand({ Bucket: bucket, Key: f.key, Body: 'ciphertext stand-in', Metadata: { 'medrelay-kind': f.kind } })));
  const w = new IndexWriter(uploader.db, uploader.store, { workstationId: uploader.name, prefix: '', maxEntries, packAfter, concurrency: 16 });
  w.start(writer);
  const before = uploader.counts.PutObjectCommand ?? 0;
  let n = n0;
  for (let i = 0; i < files.length; i += flushEvery) {
    uploader.db.transaction(() => { for (const f of files.slice(i, i + flushEvery)) w.enqueue({ ...f, size: 1000, sha256: sha(n++), uploadedAt: `${f.date}T20:00:00.000Z`, workstation: uploader.name }); })();
    await w.flush();
  }
  await w.stop();
  // Index objects written (the writer's own timer may have flushed some of them).
  return (uploader.counts.PutObjectCommand ?? 0) - before;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'medrelay-catalog-bench-'));
  const store = await openStore(dir);
  const result = { startedAt: new Date().toISOString(), machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgAtStart: loadavg() }, store: store.kind, node: process.version, figures: {} };
  try {
    const setup = client(store);
    const bucket = `catalog-bench-${Date.now().toString(36)}`;
    await setup.c.send(new CreateBucketCommand({ Bucket: bucket }));
    setup.c.destroy();
    // Keys: an AES site key, or (--rsa) upload stations with the public key only and a reading station with the private key.
    let uploadEnc;
    let readEnc;
    if (opt.rsa) {
      const { privatePem, publicPem } = newRsaPair();
      writeFileSync(join(dir, 'reader.pem'), publicPem);
      const keyId = rsaKeyIdOf(publicPem);
      writeKeyFile(join(dir, 'reader.key.json'), { medrelayKey: 1, type: 'rsa-private', keyId, pem: privatePem });
      uploadEnc = { keyrings: [{ type: 'rsa', publicKeyFile: join(dir, 'reader.pem') }] };
      readEnc = { keyrings: [{ type: 'rsa', publicKeyFile: join(dir, 'reader.pem') }], decryptKeyFiles: [join(dir, 'reader.key.json')] };
    } else {
      writeKeyFile(join(dir, 'site.key.json'), { medrelayKey: 1, type: 'aes', keyId: 'bench-key', key: newAesKey() });
      uploadEnc = readEnc = { keyrings: [{ type: 'aes', keyId: 'bench-key', keyFile: join(dir, 'site.key.json') }] };
    }
    let a = station(dir, 'ws-a', store, bucket, uploadEnc);
    let b = station(dir, 'ws-b', store, bucket, uploadEnc);
    const writer = { keyring: await buildEncryptKeyring(a.config.encryption, null), keyIds: a.config.encryption.keyrings.map(keyIdOf) };
    result.keys = opt.rsa ? 'RSA-4096 (upload stations hold the public key only)' : 'AES-256 site key';

    // 1. Three 10,000-file days: a trickle (one index object per file, flushed 16 at a time, packed
    //    every 64 small objects as the agent does), the same without packs (the worst case), and
    //    bursts (up to 500 entries per index object).
    const days = {
      trickle: ['2024-06-03', { maxEntries: 1, flushEvery: 16 }],
      'trickle-unpacked': ['2024-06-05', { maxEntries: 1, packAfter: 1e9 }],
      burst: ['2024-06-04', { maxEntries: 500 }],
    };
    let n = 0;
    for (const [mode, [date, how]] of Object.entries(days)) {
      // Fresh upload stations per day: an outbox left unpacked on purpose must not be packed later.
      a = station(dir, `ws-a-${mode}`, store, bucket, uploadEnc);
      b = station(dir, `ws-b-${mode}`, store, bucket, uploadEnc);
      const files = dayFiles(date, FILES, mode === 'burst' ? 2 : 1);
      const half = Math.floor(files.length / 2);
      const t0 = performance.now();
      const objs = await upload(writer, a, bucket, files.slice(0, half), how, n)
        + await upload(writer, b, bucket, files.slice(half), how, n + half);
      n += files.length;
      log(`${mode}: wrote ${files.length} files and ${objs} index objects (packs included) in ${ms(t0)} ms`);
      const figures = { files: files.length, indexObjects: objs };
      // Cold: a reading station that has never seen the day (fresh database each repetition).
      const cold = [];
      for (let rep = 0; rep < 3; rep++) {
        const r = station(dir, `reader-${mode}-${rep}`, store, bucket, readEnc);
        const catalog = new Catalog(r.db, r.store, { layout: r.config.layout, prefix: '', encryption: r.config.encryption, secrets: null, concurrency: 32 });
        const cpu0 = process.cpuUsage();
        const t1 = performance.now();
        const page = await catalog.openDay(date, { limit: 200 });
        const took = ms(t1);
        const cpu = process.cpuUsage(cpu0);
        cold.push({ ms: took, cpuMs: Math.round((cpu.user + cpu.system) / 1000), requests: { ...r.counts }, records: page.total, files: page.files });
        log(`${mode}: cold open #${rep + 1} ${took} ms (${page.total} records, ${page.files} files) ${JSON.stringify(r.counts)}`);
        if (rep < 2) { r.db.close(); r.client.destroy(); continue; }
        // Warm: the same station opens the day again, from SQLite only.
        const warm = [];
        for (let i = 0; i < 5; i++) {
          r.reset();
          const t2 = performance.now();
          const again = await catalog.openDay(date, { limit: 200 });
          warm.push(ms(t2));
          if (again.source !== 'catalog' || Object.keys(r.counts).length) throw new Error('warm open touched the store');
        }
        const refresh = [];
        for (let i = 0; i < 3; i++) {
          r.reset();
          const t3 = performance.now();
          await catalog.openDay(date, { refresh: true, limit: 200 });
          refresh.push({ ms: ms(t3), requests: { ...r.counts } });
        }
        figures.warmOpenMs = { median: median(warm), all: warm };
        figures.refreshUnchanged = { medianMs: median(refresh.map((x) => x.ms)), requests: refresh[0].requests };
        figures.catalogDbBytes = statSync(join(r.config.dataDir, 'medrelay.db')).size + (statSync(join(r.config.dataDir, 'medrelay.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
        r.db.close();
        r.client.destroy();
      }
      figures.coldOpen = { medianMs: median(cold.map((c) => c.ms)), runs: cold };
      result.figures[`day-${mode}`] = figures;
    }

    // 2. A month: DAYS days of MONTH_FILES files each, written in bursts; a reading station
    //    searches it cold (reads every day first) and warm (from the catalog).
    const monthDays = Array.from({ length: DAYS }, (_, i) => `2024-09-${pad(i + 1)}`);
    const t0 = performance.now();
    for (const [i, date] of monthDays.entries()) {
      const files = dayFiles(date, MONTH_FILES, 100 + i);
      await upload(writer, i % 2 ? b : a, bucket, files, { maxEntries: 500 }, n);
      n += files.length;
    }
    log(`month: wrote ${DAYS} × ${MONTH_FILES} files in ${ms(t0)} ms`);
    const r = station(dir, 'reader-month', store, bucket, readEnc);
    const catalog = new Catalog(r.db, r.store, { layout: r.config.layout, prefix: '', encryption: r.config.encryption, secrets: null, concurrency: 32 });
    const range = { from: '2024-09-01', to: `2024-09-${pad(DAYS)}` };
    // Patients that exist in the data: dayFiles(…, salt) numbers them from salt on.
    const queries = (base) => ({
      patientId: { patient: `P${base + 14}` }, patientName: { patient: `family${base + 7} given` }, modality: { modality: 'MR' },
      kind: { kind: 'ecg-package' }, nameAndKind: { patient: `dicom patient${base + 1}`, kind: 'dicom' },
    });
    let t1 = performance.now();
    const first = await catalog.search({ ...range, ...queries(100).patientId });
    const month = { days: DAYS, filesPerDay: MONTH_FILES, coldSearchMs: ms(t1), coldRequests: { ...r.counts }, coldMatches: first.records.length, warm: {} };
    log(`month: cold search ${month.coldSearchMs} ms ${JSON.stringify(r.counts)}`);
    for (const [name, q] of Object.entries(queries(100))) {
      const times = [];
      let found = 0;
      for (let i = 0; i < 5; i++) {
        r.reset();
        t1 = performance.now();
        const res = await catalog.search({ ...range, ...q, limit: 10_000 }, 'none');
        times.push(ms(t1));
        found = res.records.length;
      }
      month.warm[name] = { medianMs: median(times), records: found };
      log(`month: warm search ${name} ${median(times)} ms (${found} records)`);
    }
    result.figures.month = month;

    // 3. Search over a bigger month, built in SQLite directly: DAYS × FILES files, as a busy site's
    //    reading station would hold after opening every day (the store is not involved).
    const big = station(dir, 'reader-big', store, bucket, readEnc);
    const repo = new CatalogRepository(big.db);
    const t4 = performance.now();
    for (const [i, date] of monthDays.entries()) {
      const files = dayFiles(date.replace('-09-', '-10-'), FILES, 300 + i);
      const ix = { key: `index/2024/10/${date.slice(8)}/x/all.idx`, entries: files.map((f, j) => ({ ...f, size: 1, sha256: sha(j), uploadedAt: '2024-10-01T00:00:00.000Z', workstation: 'x' })), problem: null };
      repo.replaceDay(date.replace('-09-', '-10-'), Date.now(), {
        objects: files.map((f) => ({ key: f.key, kind: f.kind, storedSize: 1000, lastModified: 0 })), indexListed: new Set([ix.key]), indexRead: [ix], heads: new Map(),
        recordIdOf: (o, e) => (o.kind === 'dicom' ? `study:${e?.studyUid}` : o.kind === 'ecg-package' ? `package:${o.key.slice(0, o.key.lastIndexOf('/'))}` : `file:${o.key.replace(/\.(pdf|json)$/, '')}`),
      });
    }
    const bigCatalog = new Catalog(big.db, big.store, { layout: big.config.layout, prefix: '', encryption: big.config.encryption, secrets: null });
    const bigRange = { from: '2024-10-01', to: `2024-10-${pad(DAYS)}` };
    const bigMonth = { files: DAYS * FILES, buildMs: ms(t4), warm: {} };
    for (const [name, q] of Object.entries(queries(300))) {
      const times = [];
      let found = 0;
      for (let i = 0; i < 5; i++) {
        t1 = performance.now();
        const res = await bigCatalog.search({ ...bigRange, ...q, limit: 10_000 }, 'none');
        times.push(ms(t1));
        found = res.records.length;
      }
      bigMonth.warm[name] = { medianMs: median(times), records: found };
      log(`big month: warm search ${name} ${median(times)} ms (${found} records)`);
    }
    bigMonth.catalogDbBytes = statSync(join(big.config.dataDir, 'medrelay.db')).size + (statSync(join(big.config.dataDir, 'medrelay.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
    result.figures.bigMonth = bigMonth;
  } finally {
    await store.stop().catch((e) => log(`stopping the store: ${e.message}`));
    if (!opt.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
  const json = JSON.stringify(result, null, 2);
  if (opt.out) writeFileSync(opt.out, `${json}\n`);
  process.stdout.write(`${json}\n`);
}

await main();
