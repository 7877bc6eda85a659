// What a keyring is made of, as plain data: the encrypting keyrings are built from these specs on
// the main thread and again inside the sealing worker (sealer.ts), which cannot be handed a keyring
// object. AES keys travel as bytes inside the process, never to disk or to another process.
import { MultiKeyringNode, type KeyringNode } from '@aws-crypto/client-node';
import { aesKeyring, rsaPublicKeyring } from './keyrings.js';

export type KeyringSpec =
  | { type: 'aes'; keyId: string; key: Uint8Array }
  | { type: 'rsa'; keyId: string; publicKeyPem: string };

/** One keyring that wraps each data key under every spec's key (the first generates it). */
export function keyringFromSpecs(specs: readonly KeyringSpec[]): KeyringNode {
  const [generator, ...children] = specs.map((s) => (s.type === 'aes' ? aesKeyring(s.keyId, Buffer.from(s.key)) : rsaPublicKeyring(s.keyId, s.publicKeyPem)));
  if (!generator) throw new Error('no keyring specs');
  return children.length ? new MultiKeyringNode({ generator, children }) : generator;
}
