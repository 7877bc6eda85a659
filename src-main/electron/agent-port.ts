// What the Electron shell needs from the core agent. core/agent.ts provides `createAgent`; main.ts
// assigns it to `CreateAgent`, so a mismatch is a compile error in one place (main.ts).
import type { AppApi, AppEvents } from '../../src-shared/api.js';

export type EventName = keyof AppEvents;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * `on(event, listener)` as one overload per AppEvents name, so a typed Node EventEmitter
 * (`EventEmitter<{ job: [JobEvent]; status: [StatusSnapshot] }>`) fits as it is. The return
 * value (the emitter, an unsubscribe function, …) is not used.
 */
export type OnAppEvent = UnionToIntersection<{
  [E in EventName]: (event: E, listener: (payload: AppEvents[E]) => void) => unknown;
}[EventName]>;

/** Where the desktop app keeps its files; the agent reads settings and the IT policy itself. */
export interface AgentConfig {
  /** Per-user data folder (Electron's `userData`): settings, database, audit log. */
  dataDir: string;
  /** Folder for log files (Electron's `logs` path). */
  logDir: string;
}

export interface AgentPort {
  /** Starts watching, the queue and connectivity checks. Rejects if the settings are unusable. */
  start(): Promise<void>;
  /** Stops taking new work and waits for in-flight state to be saved. */
  stop(): Promise<void>;
  /** The handler table bound to IPC: one method per name in API_METHODS, each returning a Result. */
  readonly api: AppApi;
  /** Subscribes to pushes (every name in EVENT_NAMES). */
  on: OnAppEvent;
}

export type CreateAgent = (config: AgentConfig) => AgentPort | Promise<AgentPort>;
