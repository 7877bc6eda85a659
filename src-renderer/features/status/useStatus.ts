// The latest StatusSnapshot: asked for every second and replaced by each 'status' push from main.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StatusSnapshot } from '../../../src-shared/api.js';
import type { AppError, Result } from '../../../src-shared/result.js';
import { api, onEvent } from '../../api.js';

export interface StatusState {
  snapshot: StatusSnapshot | null;
  /** The last failure to get a snapshot; cleared by the next success. */
  error: AppError | null;
}

export function useStatus(intervalMs = 1000): StatusState & { apply(result: Result<StatusSnapshot>): void } {
  const [state, setState] = useState<StatusState>({ snapshot: null, error: null });
  const alive = useRef(true);

  const apply = useCallback((result: Result<StatusSnapshot>) => {
    if (!alive.current) return;
    if (result.ok) setState({ snapshot: result.value, error: null });
    else setState((s) => ({ snapshot: s.snapshot, error: result.error }));
  }, []);

  useEffect(() => {
    alive.current = true;
    let asking = false;
    const poll = () => {
      // A slow answer must not pile up requests behind it.
      if (asking) return;
      asking = true;
      void api.getStatus().then(apply).finally(() => { asking = false; });
    };
    poll();
    const timer = setInterval(poll, intervalMs);
    const stop = onEvent('status', (snapshot) => apply({ ok: true, value: snapshot }));
    return () => {
      alive.current = false;
      clearInterval(timer);
      stop();
    };
  }, [apply, intervalMs]);

  return { ...state, apply };
}
