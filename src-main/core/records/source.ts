// Bounded random access to a file's bytes: a small read window instead of the whole file, so that
// inspecting a 2 GB DICOM series file costs a few hundred kilobytes of memory.

/**
 * What the format checks read through: an open file (a FileHandle fits), or a file's bytes already
 * in memory (MemoryHandle).
 */
export interface ReadHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** A file's bytes held in memory, read like an open file. */
export class MemoryHandle implements ReadHandle {
  constructor(private readonly bytes: Uint8Array) {}

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const end = Math.min(this.bytes.length, position + length);
    const n = Math.max(0, end - position);
    if (n > 0) buffer.set(this.bytes.subarray(position, end), offset);
    return Promise.resolve({ bytesRead: n });
  }
}

/** Thrown when a read needs bytes beyond the end of the data: the file is (still) too short. */
export class EndOfData extends Error {
  constructor(readonly position: number, readonly needed: number, readonly size: number) {
    super(`needs bytes ${position}..${position + needed} but the data ends at ${size}`);
    this.name = 'EndOfData';
  }
}

export interface ByteSource {
  readonly size: number;
  /**
   * Exactly `length` bytes at `position`; throws EndOfData if they are not all there. The result may be
   * a view of an internal buffer that the next read overwrites: copy it to keep it.
   */
  read(position: number, length: number): Promise<Uint8Array>;
}

/** Bytes of an in-memory buffer (small files, inflated deflate data). */
export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  read(position: number, length: number): Promise<Uint8Array> {
    if (position < 0 || length < 0 || position + length > this.bytes.length) {
      return Promise.reject(new EndOfData(position, length, this.bytes.length));
    }
    return Promise.resolve(this.bytes.subarray(position, position + length));
  }
}

const JUMP_READ = 512;

/** Bytes of an open file, read through one reusable window. */
export class FileSource implements ByteSource {
  private readonly window: Buffer;
  private windowStart = 0;
  private windowLength = 0;
  /** Total bytes read from disk, for tests that check the reader stays bounded. */
  bytesRead = 0;

  constructor(private readonly handle: ReadHandle, readonly size: number, windowSize = 256 * 1024) {
    this.window = Buffer.allocUnsafe(windowSize);
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    if (position < 0 || length < 0 || position + length > this.size) {
      throw new EndOfData(position, length, this.size);
    }
    if (position >= this.windowStart && position + length <= this.windowStart + this.windowLength) {
      const from = position - this.windowStart;
      return this.window.subarray(from, from + length);
    }
    if (length > this.window.length) {
      const out = Buffer.allocUnsafe(length);
      await this.fill(out, position, length);
      return out;
    }
    // Read ahead only when scanning forward; a jump (skipping a bulk value) reads one small block.
    const sequential = position >= this.windowStart && position <= this.windowStart + this.windowLength;
    const want = Math.min(Math.max(length, sequential ? this.window.length : JUMP_READ), this.size - position);
    await this.fill(this.window, position, want);
    this.windowStart = position;
    this.windowLength = want;
    return this.window.subarray(0, length);
  }

  private async fill(target: Buffer, position: number, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(target, done, length - done, position + done);
      if (bytesRead === 0) throw new EndOfData(position + done, length - done, position + done);
      done += bytesRead;
      this.bytesRead += bytesRead;
    }
  }
}

/** Reads up to `length` bytes at `position` (fewer at the end of the file). */
export async function readAt(handle: ReadHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, length));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}
