// Reads and validates the config file. A wrong setting fails at start with a message that names
// the setting, the value and what was expected.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A validated config with absolute paths and every default filled in. */
export type ResolvedConfig = Config & {
  workstationId: string;
  configPath: string | null;
  /** The IT policy merged in, and the settings it locks (config/policy.ts). */
  policy?: { path: string | null; locked: string[] };
};

/** The value at a zod issue's path in the raw input. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** `store.bucket`, `watch[0].kind`: a setting's name as a person writes it. */
export function settingName(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(root)';
}

/** One line per problem: `setting "store.bucket" is "My Bucket": expected …`. */
export function describeIssues(error: z.ZodError, input: unknown, source: string): string {
  const lines = error.issues.map((issue) => {
    const name = settingName(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return `${name === '(root)' ? 'top level' : `setting "${name}"`} has unknown setting(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? 'missing' : `${JSON.stringify(value)}`;
    return `setting "${name}" is ${shown}: expected ${issue.message.replace(/^Invalid input: expected /, '')}`;
  });
  return `${source}: invalid configuration\n  - ${lines.join('\n  - ')}`;
}

export function parseConfig(input: unknown, baseDir: string, source = 'configuration'): ResolvedConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, input, source));
  const c = parsed.data;
  const abs = (p: string) => resolve(baseDir, p);
  return {
    ...c,
    dataDir: abs(c.dataDir),
    workstationId: c.workstationId ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
    store: c.store.type === 'folder' ? { ...c.store, path: abs(c.store.path) } : c.store,
    watch: c.watch.map((w) => ({ ...w, path: abs(w.path) })),
    retention: c.retention.archiveDir ? { ...c.retention, archiveDir: abs(c.retention.archiveDir) } : c.retention,
    encryption: {
      ...c.encryption,
      keyrings: c.encryption.keyrings.map((k) =>
        k.type === 'aes' && k.keyFile ? { ...k, keyFile: abs(k.keyFile) } : k.type === 'rsa' ? { ...k, publicKeyFile: abs(k.publicKeyFile) } : k),
      decryptKeyFiles: c.encryption.decryptKeyFiles.map(abs),
    },
    configPath: null,
  };
}

/** A config file's JSON object; a missing file is `{}` when `optional`. Errors name the file. */
export function readConfigJson(path: string, optional = false): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`config file ${path} must hold a JSON object of settings`);
  return json as Record<string, unknown>;
}

export function loadConfig(file: string): ResolvedConfig {
  const path = resolve(file);
  return { ...parseConfig(readConfigJson(path), dirname(path), path), configPath: path };
}
