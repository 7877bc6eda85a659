// The status view: watched folders, records by state, uploads in flight, recent problems, and the
// pause/resume switch. Kept current by useStatus (poll every second + 'status' pushes).
import { useState } from 'react';
import { api } from '../../api.js';
import { Counts, InFlight, Problems, WatchedFolders, formatTime } from './StatusParts.js';
import { useStatus } from './useStatus.js';

export function StatusPage() {
  const { snapshot, error, apply } = useStatus();
  const [switching, setSwitching] = useState(false);

  const togglePause = () => {
    if (!snapshot || switching) return;
    setSwitching(true);
    void (snapshot.paused ? api.resumeUploads() : api.pauseUploads())
      .then(apply)
      .finally(() => setSwitching(false));
  };

  return (
    <main className="status-page">
      <header className="status-header">
        <h1>MedRelay</h1>
        {snapshot && (
          <p className={snapshot.paused ? 'state state-paused' : 'state state-running'} role="status">
            {snapshot.paused ? 'Uploads are paused' : 'Uploading'}
          </p>
        )}
        <button type="button" onClick={togglePause} disabled={!snapshot || switching}>
          {snapshot?.paused ? 'Resume uploads' : 'Pause uploads'}
        </button>
      </header>

      {error && <p className="error" role="alert">Could not get the status ({error.code}): {error.message}</p>}
      {!snapshot ? (!error && <p className="muted">Loading…</p>) : (
        <>
          <Counts counts={snapshot.counts} />
          {(snapshot.oldestWaiting || snapshot.nextRetryAt) && (
            <p className="muted">
              {snapshot.oldestWaiting && <>Oldest waiting: {snapshot.oldestWaiting.file}, since {formatTime(snapshot.oldestWaiting.since)}. </>}
              {snapshot.nextRetryAt && <>Next retry: {formatTime(snapshot.nextRetryAt)}.</>}
            </p>
          )}
          <InFlight uploads={snapshot.inFlight} />
          <Problems problems={snapshot.recentErrors} incompleteFiles={snapshot.incompleteFiles} />
          <WatchedFolders folders={snapshot.watched} />
        </>
      )}
    </main>
  );
}
