// The `medrelay` command's commands, their usage and their exit codes (the entry point is
// src-main/cli.ts). Its commands and their JSON output are a stable contract for scripts.
// Exit codes: 0 everything delivered / done, 1 something failed or needs a person, 2 bad usage
// or configuration.
import { ConfigError } from '../core/config/load.js';
import { DecryptError } from '../core/crypto/envelope.js';
import { KeyError } from '../core/crypto/key-files.js';
import { SchemaError } from '../core/db/migrate.js';
import { SecretStoreError } from '../core/secrets/secret-store.js';
import { StoreError } from '../core/store/types.js';
import { parse, out, UsageError, type EarlyStart, type Flags } from './common.js';
import { runAgent, runDemo, runGet, runRetry, runStatus } from './records.js';
import { BROWSE_COMMANDS, browseCommands, parseBrowse } from './browse.js';
import { runDecrypt, runKeys, runLogin } from './keys.js';

const USAGE = `Usage: medrelay <command> [options]

Commands:
  agent --config FILE [--once]        watch the folders and upload (--once: one pass, then exit)
  status --config FILE [--json]       job counts, waiting and failing records
  list --config FILE --date YYYY-MM-DD [--json]   records stored for a day, grouped (--grouped: one
                                      JSON object per record); --from D --to D for a range;
                                      filters --patient ID-OR-NAME, --kind KIND, --modality M;
                                      --offline: from the local catalog without the store
  days --config FILE [--year YYYY | --month YYYY-MM] [--json]   years, months or days with records
  share --config FILE --key KEY --expires 3d      a link that expires (at most 7d; encrypted
                                      records: a copy under a one-time password)
  open-share --url URL --out PATH     download a shared record (password from standard input or a prompt)
  get --config FILE --key KEY --out PATH          write a stored record's original bytes
  retry --config FILE                 try again the records parked for a person
  demo [--dir DIR]                    deliver sample records to a local folder store (no cloud)
  login --config FILE [--access-key-id ID]        store S3 credentials in the OS keychain
                                      (the secret is read from standard input or a prompt)
  keys init [--file PATH] [--key-id ID]           create an AES-256 site key (keychain, or a 0600 file)
  keys init --rsa --out PUBLIC.pem [--file PATH]  create an RSA pair for a reading station
  keys rotate --config FILE           new site key for new uploads; old keys stay for reading
  keys export-public --key-id ID --out PUBLIC.pem the public half of a keychain RSA key
  keys export --key-id ID --file PATH write a keychain key to a key file (escrow, recovery)
  keys import --key-file PATH         put a key file's key into this machine's keychain
  decrypt --key-file KEY IN OUT       decrypt a downloaded object offline, no configuration

Exit codes: 0 ok, 1 a record failed or needs attention, 2 bad usage or configuration.`;

/** `early`: what the entry point already read and looked at for `agent --once` (src-main/cli.ts). */
export async function main(argv: string[], early?: EarlyStart): Promise<number> {
  let positionals: string[];
  let flags: Flags;
  try {
    ({ positionals, flags } = BROWSE_COMMANDS.has(argv[0] ?? '') ? parseBrowse(argv) : parse(argv));
  } catch (e) {
    process.stderr.write(`medrelay: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [command = '', ...args] = positionals;
  if (flags.help || command === 'help' || command === '') {
    out(USAGE);
    return command === '' && !flags.help ? 2 : 0;
  }
  const commands: Record<string, (f: Flags, args: string[]) => Promise<number>> = {
    agent: (f) => runAgent(f, early), status: runStatus, ...browseCommands, get: runGet, retry: runRetry, demo: runDemo,
    keys: runKeys, login: runLogin, decrypt: runDecrypt,
  };
  const takesArgs = command === 'keys' || command === 'decrypt';
  if (!takesArgs && args.length) {
    process.stderr.write(`medrelay: unexpected argument "${args[0]}"\n${USAGE}\n`);
    return 2;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`medrelay: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(flags, args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`medrelay ${command}: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof SchemaError || e instanceof KeyError || e instanceof SecretStoreError) {
      process.stderr.write(`medrelay ${command}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof StoreError) {
      process.stderr.write(`medrelay ${command}: [${e.code}] ${e.message}\n`);
      return 1;
    }
    if (e instanceof DecryptError) {
      process.stderr.write(`medrelay ${command}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`medrelay ${command}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 1;
  }
}
