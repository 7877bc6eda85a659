// A small logger: one line per event, to stderr and to dataDir/logs/agent.log.
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Logs go to `logDir`, or `dataDir/logs`, as agent.log. */
export function createLogger(opts: { dataDir?: string; logDir?: string; stderr?: boolean; quiet?: boolean } = {}): Logger {
  let file: string | null = null;
  const dir = opts.logDir ?? (opts.dataDir ? join(opts.dataDir, 'logs') : null);
  if (dir) {
    mkdirSync(dir, { recursive: true });
    file = join(dir, 'agent.log');
  }
  // Opened once for appending: a line is one write, not an open, a write and a close.
  let fd: number | null = null;
  const write = (level: string, message: string) => {
    const line = `${new Date().toISOString()} ${level} ${message}\n`;
    if (file) {
      try {
        fd ??= openSync(file, 'a');
        writeSync(fd, line);
      } catch { /* a full disk must not stop uploads */ }
    }
    if (opts.stderr !== false && !(opts.quiet && level === 'info')) process.stderr.write(line);
  };
  return { info: (m) => write('info', m), warn: (m) => write('warn', m), error: (m) => write('error', m) };
}
