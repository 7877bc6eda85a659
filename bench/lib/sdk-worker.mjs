// The ceiling: a bare AWS SDK upload of the same files, no watcher, no queue, no hashing of our
// own, no encryption. Run as its own process so its CPU and RSS can be measured like the agent's.
//   node sdk-worker.mjs '{"endpoint":…,"bucket":…,"dir":…,"mode":"multipart"|"put","concurrency":4}'
// mode multipart: @aws-sdk/lib-storage Upload per file (partSize/queueSize as the agent's defaults);
// mode put: one PutObject per file with the file read into memory.
// "unsignedPayload": true is an experiment (bench --extra): no SigV4 hash of the bodies.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';

const opts = JSON.parse(process.argv[2]);

async function listFiles(root) {
  const out = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

const client = new S3Client({
  endpoint: opts.endpoint, region: opts.region, forcePathStyle: true,
  credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', maxAttempts: 2,
});

if (opts.unsignedPayload) {
  // Experiment: sign the headers only (x-amz-content-sha256: UNSIGNED-PAYLOAD), so the SDK does
  // not hash every buffered body for SigV4. TLS (and, in MedRelay, the GCM tags) cover integrity.
  client.middlewareStack.add((next) => async (args) => {
    if (args.request?.headers) args.request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    return next(args);
  }, { step: 'build', name: 'benchUnsignedPayload' });
}

async function uploadOne(path) {
  const Key = `${opts.prefix}/${relative(opts.dir, path)}`;
  const ContentType = path.endsWith('.pdf') ? 'application/pdf' : 'application/dicom';
  if (opts.mode === 'multipart') {
    const body = createReadStream(path, { highWaterMark: 1024 * 1024 });
    await new Upload({
      client, params: { Bucket: opts.bucket, Key, Body: body, ContentType },
      partSize: opts.partSize, queueSize: opts.queueSize, leavePartsOnError: false,
    }).done();
  } else {
    await client.send(new PutObjectCommand({ Bucket: opts.bucket, Key, Body: await readFile(path), ContentType }));
  }
}

const t0 = performance.now();
const files = await listFiles(opts.dir);
let next = 0;
await Promise.all(Array.from({ length: opts.concurrency }, async () => {
  while (next < files.length) await uploadOne(files[next++]);
}));
const uploadS = (performance.now() - t0) / 1000;
client.destroy();
const u = process.resourceUsage();
process.stderr.write(`bench-sdk ${JSON.stringify({ files: files.length, uploadS })}\n`);
process.stderr.write(`medrelay-usage ${JSON.stringify({ userCpuSeconds: u.userCPUTime / 1e6, systemCpuSeconds: u.systemCPUTime / 1e6, maxRssBytes: u.maxRSS * 1024, minorPageFaults: u.minorPageFault, voluntarySwitches: u.voluntaryContextSwitches, involuntarySwitches: u.involuntaryContextSwitches })}\n`);
