// The IT policy: a system-wide JSON file with the same settings as the user's config file. Every
// setting it sets overrides the user's and is locked (the UI shows it read-only). An invalid
// policy is an error that stops uploads, never a reason to fall back to the user's or the default
// settings: IT locked them for a reason.
//
// Merge rules: objects merge key by key; arrays and plain values replace; an object whose "type"
// differs (store: s3 vs folder) replaces the user's whole object, since its other fields belong to
// the other type. Paths in the policy must be absolute (there is no "config folder" to be relative to).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve, win32 } from 'node:path';
import type { z } from 'zod';
import { ConfigError, parseConfig, readConfigJson, settingName, valueAt, type ResolvedConfig } from './load.js';
import { configSchema } from './schema.js';

/** Where IT puts the policy on each OS (Windows: under %ProgramData%). */
export function defaultPolicyPath(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return win32.join(env.ProgramData ?? 'C:\\ProgramData', 'MedRelay', 'policy.json');
  if (platform === 'darwin') return '/Library/Application Support/MedRelay/policy.json';
  return '/etc/medrelay/policy.json';
}

/** One setting of the policy that is wrong. */
export interface PolicyProblem {
  /** `store.bucket`, `watch[0].kind`, or `(root)`. */
  setting: string;
  /** What the policy has there, as JSON; `undefined` when the problem is the file itself. */
  value: unknown;
  /** What was expected, in words. */
  expected: string;
}

/**
 * The policy file is unreadable, not JSON, or sets a wrong value. A ConfigError, so every caller
 * that refuses to start on bad settings refuses on a bad policy too.
 */
export class PolicyError extends ConfigError {
  override name = 'PolicyError';
  constructor(readonly policyPath: string, readonly problems: PolicyProblem[]) {
    super(`IT policy file ${policyPath} is invalid, so MedRelay will not upload until it is fixed:\n  - ${problems.map(describeProblem).join('\n  - ')}`);
  }
}

function describeProblem(p: PolicyProblem): string {
  if (p.setting === '(file)') return p.expected;
  const shown = p.value === undefined ? 'missing' : JSON.stringify(p.value);
  return `setting "${p.setting}" is ${shown}: expected ${p.expected}`;
}

export interface EffectiveConfig {
  config: ResolvedConfig;
  /** Settings the policy sets, as paths (`store.bucket`, `watch`); sorted. Empty without a policy. */
  locked: string[];
  /** The policy file that was applied, or null when there is none. */
  policyPath: string | null;
}

export interface EffectiveConfigOptions {
  /** Treat a missing user config file as `{}` (the desktop app before anyone saved settings). */
  userConfigOptional?: boolean;
  /** Settings below both files, e.g. `{ dataDir }` for the desktop app's own data folder. */
  defaults?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` on top of `base`, by the merge rules at the top of this file. Inputs are not changed. */
export function mergeSettings(base: unknown, over: unknown): unknown {
  if (!isObject(over) || !isObject(base)) return over;
  if ('type' in over && 'type' in base && over.type !== base.type) return over;
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = key in base ? mergeSettings(base[key], value) : value;
  return out;
}

/** The leaf settings a policy sets: objects are walked, arrays and values are leaves. */
export function lockedSettings(policy: Json, prefix = ''): string[] {
  return Object.entries(policy).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isObject(value) ? lockedSettings(value, path) : [path];
  }).sort();
}

/** `a` is `b` or inside it (`store.bucket` is inside `store`; `watch[0].kind` inside `watch`). */
function within(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
}

/** Settings that hold file or folder paths; in a policy they must be absolute. */
const PATH_SETTINGS = [
  /^dataDir$/, /^store\.path$/, /^watch\[\d+\]\.path$/,
  /^encryption\.keyrings\[\d+\]\.(keyFile|publicKeyFile)$/, /^encryption\.decryptKeyFiles\[\d+\]$/,
  /^retention\.archiveDir$/,
];

function relativePaths(value: unknown, path: string): PolicyProblem[] {
  if (typeof value === 'string') {
    return PATH_SETTINGS.some((re) => re.test(path)) && !isAbsolute(value)
      ? [{ setting: path, value, expected: 'an absolute path (a policy has no folder for relative paths to start from)' }]
      : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => relativePaths(v, `${path}[${i}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => relativePaths(v, path ? `${path}.${k}` : k));
  return [];
}

/** zod's "Invalid option: expected one of …" as "one of …". */
function expectedText(message: string): string {
  return message.replace(/^Invalid (input|option|discriminator value)[.:]?\s*(expected\s+)?/i, '');
}

/** The policy's own problems among the merged settings' issues: those in a setting it sets. */
function policyProblems(issues: readonly z.core.$ZodIssue[], merged: unknown, locked: string[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const issue of issues) {
    const at = settingName(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const setting = at === '(root)' ? key : `${at}.${key}`;
        if (locked.some((l) => within(l, setting))) {
          problems.push({ setting, value: valueAt(merged, [...issue.path, key]), expected: 'no such setting (check its spelling and place)' });
        }
      }
      continue;
    }
    // In a setting the policy sets, or about an object the policy sets part of (a union's type).
    if (!locked.some((l) => within(at, l) || within(l, at))) continue;
    problems.push({ setting: at, value: valueAt(merged, issue.path), expected: expectedText(issue.message) });
  }
  return problems;
}

/** Reads the policy; null when there is none. Anything else wrong with the file is a PolicyError. */
export function readPolicy(policyPath: string): Json | null {
  let text: string;
  try {
    text = readFileSync(policyPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PolicyError(policyPath, [{ setting: '(file)', value: undefined, expected: `the file cannot be read: ${(e as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(policyPath, [{ setting: '(file)', value: undefined, expected: `the file is not valid JSON: ${(e as Error).message}` }]);
  }
  if (!isObject(json)) throw new PolicyError(policyPath, [{ setting: '(root)', value: json, expected: 'a JSON object of settings, like the config file' }]);
  const relative = relativePaths(json, '');
  if (relative.length) throw new PolicyError(policyPath, relative);
  return json;
}

/**
 * The settings MedRelay runs with: `defaults`, then the user's config file, then the IT policy
 * (default: the OS's policy path). Throws PolicyError when the policy is wrong (even if the user's
 * file is wrong too), ConfigError when only the user's settings are.
 */
export function loadEffectiveConfig(
  userConfigPath: string,
  policyPath: string = defaultPolicyPath(),
  opts: EffectiveConfigOptions = {},
): EffectiveConfig {
  const userPath = resolve(userConfigPath);
  const policyFile = resolve(policyPath);
  const policy = readPolicy(policyFile);
  const user = readConfigJson(userPath, opts.userConfigOptional ?? false) as Json;
  const locked = policy ? lockedSettings(policy) : [];
  const merged = mergeSettings(mergeSettings(opts.defaults ?? {}, user), policy ?? {});

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success && policy) {
    const problems = policyProblems(parsed.error.issues, merged, locked);
    if (problems.length) throw new PolicyError(policyFile, problems);
  }
  // Relative paths are the user's (the policy's are absolute): they start at the user's file.
  const config = parseConfig(merged, dirname(userPath), userPath);
  return { config: { ...config, configPath: userPath }, locked, policyPath: policy ? policyFile : null };
}

/** True if `setting` (`store.bucket`, `watch[0].path`) is set by the policy, itself or a parent. */
export function isLocked(locked: readonly string[], setting: string): boolean {
  return locked.some((l) => within(setting, l));
}
