// The sections of the status view, each a plain function of part of a StatusSnapshot.
import { JOB_STATES, type InFlightUpload, type JobState, type ProblemReport, type WatchedFolder } from '../../../src-shared/api.js';

const STATE_LABEL: Record<JobState, string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  committed: 'Checking in the store',
  'retry-wait': 'Waiting to retry',
  done: 'Uploaded',
  'needs-attention': 'Needs attention',
  failed: 'Failed',
};

const KIND_LABEL: Record<WatchedFolder['kind'], string> = { ecg: 'ECG', dicom: 'DICOM', auto: 'ECG and DICOM' };

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function Counts({ counts }: { counts: Record<JobState, number> }) {
  return (
    <section aria-labelledby="counts-title">
      <h2 id="counts-title">Records</h2>
      <dl className="counts">
        {JOB_STATES.map((state) => (
          <div key={state} className={`count count-${state}`}>
            <dt>{STATE_LABEL[state]}</dt>
            <dd>{counts[state]}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

export function WatchedFolders({ folders }: { folders: WatchedFolder[] }) {
  return (
    <section aria-labelledby="folders-title">
      <h2 id="folders-title">Watched folders</h2>
      {folders.length === 0 ? <p className="muted">No folder is watched. Ask IT to set one in the MedRelay settings.</p> : (
        <ul className="folders">
          {folders.map((f) => <li key={f.path}><code>{f.path}</code> <span className="muted">({KIND_LABEL[f.kind]})</span></li>)}
        </ul>
      )}
    </section>
  );
}

export function InFlight({ uploads }: { uploads: InFlightUpload[] }) {
  return (
    <section aria-labelledby="inflight-title">
      <h2 id="inflight-title">Uploading now</h2>
      {uploads.length === 0 ? <p className="muted">Nothing is uploading.</p> : (
        <ul className="uploads">
          {uploads.map((u) => {
            const pct = u.size > 0 ? Math.min(100, Math.floor((u.sent / u.size) * 100)) : 0;
            return (
              <li key={u.jobId}>
                <div className="upload-file" title={u.key}>{u.file}</div>
                <progress max={u.size || 1} value={Math.min(u.sent, u.size || 1)} aria-label={`${u.file} upload progress`} />
                <span className="muted">{pct}% of {formatBytes(u.size)}</span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

export function Problems({ problems, incompleteFiles }: { problems: ProblemReport[]; incompleteFiles: number }) {
  return (
    <section aria-labelledby="problems-title">
      <h2 id="problems-title">Recent problems</h2>
      {incompleteFiles > 0 && (
        <p className="warning">{incompleteFiles} file{incompleteFiles === 1 ? ' stays' : 's stay'} incomplete and {incompleteFiles === 1 ? 'was' : 'were'} not uploaded.</p>
      )}
      {problems.length === 0 ? <p className="muted">No problems.</p> : (
        <ul className="problems">
          {problems.map((p, i) => (
            <li key={`${p.at}-${p.file}-${i}`}>
              <span className={`code code-${p.code}`}>{p.code}</span>
              <span className="problem-file" title={p.key ?? undefined}>{p.file}</span>
              <span className="problem-reason">{p.reason}</span>
              <time dateTime={p.at} className="muted">{formatTime(p.at)}</time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
