// Envelope encryption of one object with the AWS Encryption SDK: message format v2 with key
// commitment, one data key per object, streaming both ways. No home-made cryptography.
//
// Suite: AES-256-GCM with HKDF-SHA512 and key commitment, without ECDSA signatures
// (ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY, 0x0478). Frames of 1 MiB. Measured here on
// 200 MB, one core: 4 KiB frames (the SDK default) 129-319 MB/s, 64 KiB 497-1,093 MB/s, 1 MiB
// 1,912-3,278 MB/s (two runs on different days); 1 MiB frames add about 6.6 KB per 200 MB. The signing suite (0x0578) would let a reader prove which writer
// made a message; we do not need that, since every holder of a key is trusted, and it costs an
// ECDSA signature per object. docs/encryption.md explains the format.
// The SDK's packages, not its umbrella @aws-crypto/client-node: that one also loads the KMS keyring
// with the KMS and DynamoDB clients, a fifth of the command's start-up, for sites that use no KMS
// key (crypto/keyrings.ts loads it when one is configured).
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import {
  AlgorithmSuiteIdentifier, CommitmentPolicy, CommitmentPolicySuites, needs, NodeAlgorithmSuite,
  NodeDefaultCryptographicMaterialsManager, type KeyringNode,
} from '@aws-crypto/material-management-node';
// The SDK's own message writer, beneath its stream (5.0.2 has no `exports` map; the package is
// pinned in package.json so that these paths cannot move under us). See MessageWriter.
import { getEncryptionInfo } from '@aws-crypto/encrypt-node/build/main/src/encrypt_stream.js';
import { getEncryptFrame } from '@aws-crypto/encrypt-node/build/main/src/framed_encrypt_stream.js';
import { Transform, type Duplex } from 'node:stream';

const COMMITMENT = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT;
const MAX_ENCRYPTED_DATA_KEYS = 10;
/** How every MedRelay message is written and read (records here, day indexes in catalog/index-crypto.ts). */
export const SDK_CLIENT = { commitmentPolicy: COMMITMENT, maxEncryptedDataKeys: MAX_ENCRYPTED_DATA_KEYS };
const { encryptStream } = buildEncrypt(SDK_CLIENT);
const { decryptUnsignedMessageStream } = buildDecrypt(SDK_CLIENT);

export const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
export const FRAME_LENGTH = 1024 * 1024;

/**
 * What the cleartext `medrelay-format` metadata says about an object:
 * `esdk2`: an AWS Encryption SDK message whose plaintext is the file itself;
 * `esdk2-named`: the plaintext starts with a name header (see NAMED_MAGIC), then the file;
 * `plain`: no client-side encryption (`sse-only`).
 */
export type ObjectFormat = 'esdk2' | 'esdk2-named' | 'plain';

/** The encryption context: cleartext, authenticated, so no PHI (DESIGN.md rule 7). */
export function encryptionContext(kind: string, workstationId: string): Record<string, string> {
  return { 'medrelay-format': '1', 'medrelay-kind': kind, 'medrelay-workstation': workstationId };
}

/**
 * No `plaintextLength`: the SDK's framed stream (5.0.2) miscounts it when a chunk crosses a frame
 * boundary and fails with "Encrypted data exceeded plaintextLength" (any read shorter than a frame
 * or shifted by the name header triggers it). Framed messages do not need it.
 *
 * A write of exactly one frame is encrypted before its callback fires, so its buffer may be reused
 * then (test/core/crypto/envelope.test.ts checks it); a shorter write is kept until the frame fills
 * or the stream ends. Records are written with MessageWriter (below); this stream serves share
 * links (catalog/share.ts), whose plaintext comes as a stream of any chunk size.
 *
 * Never destroy the stream before its end: the SDK pipes its inner streams without a callback, and
 * readable-stream rethrows the premature close as an uncaught exception. To give up on a message,
 * end it and throw its ciphertext away.
 */
export function encrypting(keyring: KeyringNode, context: Record<string, string>): Duplex {
  return encryptStream(keyring, { suiteId: SUITE, frameLength: FRAME_LENGTH, encryptionContext: context });
}

type GetCipher = ReturnType<typeof getEncryptionInfo>['getCipher'];
type MessageHeader = ReturnType<typeof getEncryptionInfo>['messageHeader'];

/**
 * One message written frame by frame, without the SDK's stream: the same message as `encrypting`,
 * byte for byte in format (header, header auth, full frames, a final frame that may be empty).
 *
 * It calls the pieces the SDK's stream is made of, in the order the stream calls them: the
 * materials manager for the data key, `getEncryptionInfo` for the header, `getEncryptFrame` for
 * each frame's header, IV, AAD and cipher. No cryptography of our own: what is skipped is only the
 * duplexify/readable-stream plumbing around them, which cost a small record more CPU than the
 * encryption (measured: about 320 µs of fixed cost per message out of 335 µs for 1 KB), and made a
 * large one wait a turn of the event loop for every frame.
 *
 * Pieces come out as the SDK makes them (header, frame header, ciphertext, tag), so that a caller
 * can copy them where it wants them without joining them first. `dispose()` when done, also after
 * a failure: it wipes the data key.
 */
export class MessageWriter {
  private sequenceNumber = 1;
  private ended = false;

  private constructor(
    /** The message header and its authentication, to write first. */
    readonly header: Buffer[],
    private readonly messageHeader: MessageHeader,
    private readonly getCipher: GetCipher,
    private readonly suite: NodeAlgorithmSuite,
    readonly dispose: () => void,
  ) {}

  static async start(keyring: KeyringNode, context: Record<string, string>): Promise<MessageWriter> {
    const suite = new NodeAlgorithmSuite(SUITE);
    CommitmentPolicySuites.isEncryptEnabled(COMMITMENT, suite);
    const material = await new NodeDefaultCryptographicMaterialsManager(keyring)
      .getEncryptionMaterials({ suite, encryptionContext: context, commitmentPolicy: COMMITMENT });
    // The checks the SDK's stream makes on what the materials manager returned.
    CommitmentPolicySuites.isEncryptEnabled(COMMITMENT, material.suite);
    needs(material.encryptedDataKeys.length <= MAX_ENCRYPTED_DATA_KEYS, 'maxEncryptedDataKeys exceeded.');
    needs(!material.suite.signatureCurve, 'a signing algorithm suite cannot be written without the SDK stream');
    const { getCipher, messageHeader, rawHeader, dispose } = getEncryptionInfo(material, FRAME_LENGTH);
    const header = rawHeader.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    return new MessageWriter(header, messageHeader, getCipher, material.suite, dispose);
  }

  /**
   * Encrypts one frame: exactly FRAME_LENGTH bytes make a frame, fewer the final frame, after which
   * nothing more may be written. The plaintext is consumed before this returns (its buffer may be
   * reused).
   */
  frame(plaintext: Buffer): Buffer[] {
    needs(!this.ended, 'the message has ended: its final frame was written');
    needs(plaintext.length <= FRAME_LENGTH, `a frame holds at most ${FRAME_LENGTH} bytes`);
    const isFinalFrame = plaintext.length < FRAME_LENGTH;
    const frame = getEncryptFrame({
      pendingFrame: { sequenceNumber: this.sequenceNumber++, contentLength: plaintext.length, content: [plaintext] },
      messageHeader: this.messageHeader, getCipher: this.getCipher, isFinalFrame, suite: this.suite,
    });
    this.ended = isFinalFrame;
    return [frame.bodyHeader, frame.cipher.update(plaintext), frame.cipher.final(), frame.cipher.getAuthTag()];
  }

  /** Ends the message: an empty final frame, unless a shorter frame already was the final one. */
  end(): Buffer[] {
    return this.ended ? [] : this.frame(Buffer.alloc(0));
  }
}

/** Encrypts a whole plaintext held in memory (what the sealing worker does for a small record). */
export async function encryptToChunks(keyring: KeyringNode, context: Record<string, string>, plaintext: Buffer): Promise<Buffer[]> {
  const writer = await MessageWriter.start(keyring, context);
  try {
    const out = [...writer.header];
    for (let at = 0; at < plaintext.length; at += FRAME_LENGTH) out.push(...writer.frame(plaintext.subarray(at, at + FRAME_LENGTH)));
    out.push(...writer.end());
    return out;
  } finally {
    writer.dispose();
  }
}

/** Decrypts an object; only unsigned committing messages are accepted. */
export function decrypting(keyring: KeyringNode): Duplex {
  return decryptUnsignedMessageStream(keyring);
}

export class DecryptError extends Error {
  override name = 'DecryptError';
}

/** Turns what the SDK throws into a sentence that says what went wrong with which object. */
export function describeDecryptFailure(error: unknown, what: string): DecryptError {
  const m = error instanceof Error ? error.message : String(error);
  // A key in the keychain that the object names but that could not be read (crypto/keyrings.ts): the
  // SDK's multi-keyring reports its children's errors inside its own message.
  const keychain = /(?:SecretStoreError|KeyError): ([^\n]*keychain[^\n]*)/.exec(m);
  if (keychain) return new DecryptError(`${what}: its key could not be read: ${keychain[1]}`);
  if (/unencryptedDataKey|no.*keyring|Unable to decrypt data key|did not (?:match|decrypt)|No Encrypted Data Keys/i.test(m)) {
    return new DecryptError(`${what}: none of this machine's keys can open it (it was encrypted for other keys)`);
  }
  if (/Unsupported state or unable to authenticate data|authTag|auth tag|commitment|Malformed|Unknown format|Invalid|Truncated|Unexpected end/i.test(m)) {
    return new DecryptError(`${what}: the object is damaged or was tampered with (authentication failed): ${m}`);
  }
  return new DecryptError(`${what}: cannot decrypt: ${m}`);
}

/** Magic line of the `esdk2-named` plaintext: MEDRELAY-NAMED-1\n, a JSON line, then the file. */
export const NAMED_MAGIC = 'MEDRELAY-NAMED-1\n';

export interface NamedHeader {
  originalName: string;
}

export function namedHeader(h: NamedHeader): Buffer {
  return Buffer.from(`${NAMED_MAGIC}${JSON.stringify(h)}\n`, 'utf8');
}

/** Strips the name header from a decrypted `esdk2-named` stream and reports it. */
export function stripNamedHeader(onHeader: (h: NamedHeader) => void): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (head === null) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      const first = head.indexOf(0x0a);
      const second = first < 0 ? -1 : head.indexOf(0x0a, first + 1);
      if (second < 0) {
        if (head.length > 64 * 1024) return done(new DecryptError('the name header of this object is missing or too long'));
        return done();
      }
      if (head.subarray(0, first + 1).toString('utf8') !== NAMED_MAGIC) return done(new DecryptError('the object has no MedRelay name header'));
      try {
        onHeader(JSON.parse(head.subarray(first + 1, second).toString('utf8')) as NamedHeader);
      } catch {
        return done(new DecryptError('the name header of this object is not valid JSON'));
      }
      const rest = head.subarray(second + 1);
      head = null;
      done(null, rest);
    },
  });
}
