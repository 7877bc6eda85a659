// Key and credential commands: keys init/rotate/export-public/export/import, login, decrypt.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  decryptWithKeyFile, exportKeyFile, exportPublicKey, importKeyFile, initAesKey, initRsaPair, rotateAesKey,
} from '../core/crypto/manage.js';
import { KeychainSecretStore, SECRET_NAMES } from '../core/secrets/secret-store.js';
import { need, needConfig, out, readSecret, UsageError, type Flags } from './common.js';

export async function runKeys(flags: Flags, args: string[]): Promise<number> {
  const secrets = new KeychainSecretStore();
  const [sub] = args;
  switch (sub) {
    case 'init': {
      if (flags.rsa) {
        const r = await initRsaPair({ secrets, publicOut: resolve(need(flags, 'out', '--out PUBLIC.pem')), ...(flags.file ? { file: resolve(flags.file) } : {}) });
        out(`created RSA key "${r.keyId}": private key in ${r.where}, public key in ${resolve(flags.out!)}`);
        out(`upload stations: "encryption": { "keyrings": [ { "type": "rsa", "publicKeyFile": "${resolve(flags.out!)}" } ] }`);
        return 0;
      }
      const r = await initAesKey({ secrets, ...(flags.file ? { file: resolve(flags.file) } : {}), ...(flags['key-id'] ? { keyId: flags['key-id'] } : {}) });
      out(`created AES-256 key "${r.keyId}" in ${r.where}`);
      out(`config: "encryption": { "keyrings": [ { "type": "aes", "keyId": "${r.keyId}"${flags.file ? `, "keyFile": "${resolve(flags.file)}"` : ''} } ] }`);
      return 0;
    }
    case 'rotate': {
      const config = need(flags, 'config', '--config FILE');
      const r = await rotateAesKey(resolve(config), secrets);
      out(`new uploads use key "${r.newKeyId}" (${r.where}); key "${r.oldKeyId}" is kept for reading older objects`);
      return 0;
    }
    case 'export-public': {
      const pem = await exportPublicKey(secrets, need(flags, 'key-id', '--key-id ID'));
      writeFileSync(resolve(need(flags, 'out', '--out PUBLIC.pem')), pem, { flag: 'wx' });
      out(`wrote ${resolve(flags.out!)}`);
      return 0;
    }
    case 'export': {
      const type = await exportKeyFile(secrets, need(flags, 'key-id', '--key-id ID'), resolve(need(flags, 'file', '--file PATH')));
      out(`wrote ${type} key "${flags['key-id']}" to ${resolve(flags.file!)} (mode 600; keep it somewhere safe)`);
      return 0;
    }
    case 'import': {
      const k = await importKeyFile(secrets, resolve(need(flags, 'key-file', '--key-file PATH')));
      out(`imported ${k.type} key "${k.keyId}" into the keychain`);
      return 0;
    }
    default:
      throw new UsageError(`keys needs one of: init, rotate, export-public, export, import${sub ? ` (not "${sub}")` : ''}`);
  }
}

export async function runLogin(flags: Flags): Promise<number> {
  const config = needConfig(flags);
  if (config.store.type !== 's3') throw new UsageError(`the store in ${config.configPath} is a folder: there is nothing to log in to`);
  const accessKeyId = flags['access-key-id'] ?? (await readSecret('Access key id: '));
  const secretAccessKey = await readSecret('Secret access key: ');
  if (!accessKeyId || !secretAccessKey) throw new UsageError('an access key id and a secret access key are both required');
  await new KeychainSecretStore().set(SECRET_NAMES.s3Credentials(config.store.bucket), JSON.stringify({ accessKeyId, secretAccessKey }));
  out(`stored credentials for bucket "${config.store.bucket}" in the OS keychain; set "credentials": { "source": "keychain" }`);
  return 0;
}

export async function runDecrypt(flags: Flags, args: string[]): Promise<number> {
  const keyFile = need(flags, 'key-file', '--key-file KEY');
  const [input, output] = args;
  if (!input || !output || args.length > 2) throw new UsageError('decrypt needs IN and OUT: medrelay decrypt --key-file KEY IN OUT');
  const r = await decryptWithKeyFile(resolve(keyFile), resolve(input), resolve(output));
  out(`wrote ${resolve(output)}${r.originalName ? ` (originally ${r.originalName})` : ''}`);
  return 0;
}
