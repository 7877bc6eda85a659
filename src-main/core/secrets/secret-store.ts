// Secrets (S3 credentials, AES site keys, RSA private keys) live in the OS keychain, behind this
// small interface: macOS Keychain, Windows Credential Manager, the Secret Service on Linux.
import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring';

export interface SecretStore {
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<boolean>;
  /** Names stored under this service that start with `prefix`. */
  list(prefix: string): Promise<string[]>;
}

export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
}

/** Names of the entries MedRelay keeps. */
export const SECRET_NAMES = {
  aesKey: (keyId: string) => `aes-key:${keyId}`,
  rsaPrivateKey: (keyId: string) => `rsa-private:${keyId}`,
  s3Credentials: (account: string) => `s3-credentials:${account}`,
} as const;

export class KeychainSecretStore implements SecretStore {
  constructor(private readonly service = 'MedRelay') {}

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new SecretStoreError(`the OS keychain could not ${what} (${(e as Error).message}); on a headless machine use a key file ("keyFile") and credentials from "env" or "profile"`);
    }
  }

  get(name: string): Promise<string | null> {
    return this.call(`read "${name}"`, () => new AsyncEntry(this.service, name).getPassword());
  }

  set(name: string, value: string): Promise<void> {
    return this.call(`store "${name}"`, () => new AsyncEntry(this.service, name).setPassword(value));
  }

  delete(name: string): Promise<boolean> {
    return this.call(`delete "${name}"`, () => new AsyncEntry(this.service, name).deletePassword());
  }

  list(prefix: string): Promise<string[]> {
    return this.call('list its entries', async () =>
      (await findCredentialsAsync(this.service)).map((c) => c.account).filter((a) => a.startsWith(prefix)).sort());
  }
}
