// The OS keychain behind SecretStore, against the real Secret Service (gnome-keyring in the tests'
// private D-Bus session): a store keeps one keychain entry per name, and that entry holds no secret,
// so what another store or process writes later is what the next read returns.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeychainSecretStore } from '../../../src-main/core/secrets/secret-store.js';

describe('KeychainSecretStore', () => {
  it('reads each time what the keychain holds now, also what another store wrote after its first read', async () => {
    const service = `MedRelayTest-${randomBytes(4).toString('hex')}`;
    const reader = new KeychainSecretStore(service);
    const writer = new KeychainSecretStore(service);
    expect(await reader.get('aes-key:site-1')).toBeNull();
    await writer.set('aes-key:site-1', 'first');
    expect(await reader.get('aes-key:site-1')).toBe('first');
    await writer.set('aes-key:site-1', 'second');
    expect(await reader.get('aes-key:site-1')).toBe('second');
    await reader.set('aes-key:site-1', 'third');
    expect(await writer.get('aes-key:site-1')).toBe('third');
    await writer.set('s3-credentials:bucket-a', '{}');
    expect(await reader.list('aes-key:')).toEqual(['aes-key:site-1']);
    expect(await writer.delete('aes-key:site-1')).toBe(true);
    expect(await reader.get('aes-key:site-1')).toBeNull();
    expect(await reader.delete('aes-key:site-1')).toBe(false);
    expect(await reader.list('')).toEqual(['s3-credentials:bucket-a']);
    await reader.delete('s3-credentials:bucket-a');
  });
});
