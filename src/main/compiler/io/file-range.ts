import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StudioError } from '../../../shared/errors';

/**
 * Byte-range reads from one file, so readers never hold a whole multi-GB checkpoint in memory.
 * The descriptor stays open while the table is open; after `close()` a read reopens the file for that read
 * only, so tensor views handed to graph builders keep working after their table was closed.
 */
export class FileRange {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openFile(path);
    try {
      const st = fstatSync(this.fd);
      if (st.isDirectory()) throw new StudioError('FILE_UNREADABLE', `${path} is a folder, not a file.`, { path });
      this.size = st.size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  read(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new StudioError('FILE_TRUNCATED', `${this.path} ends before the data it describes (bytes ${offset}–${offset + length} of ${this.size}). The file is probably an incomplete download; download it again.`, { path: this.path, offset, length, size: this.size });
    }
    const out = new Uint8Array(length);
    const own = this.fd === undefined;
    const fd = this.fd ?? openFile(this.path);
    try {
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n <= 0) {
          throw new StudioError('FILE_TRUNCATED', `${this.path} changed or ended while it was being read.`, { path: this.path, offset: offset + done });
        }
        done += n;
      }
    } finally {
      if (own) closeSync(fd);
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new StudioError('FILE_NOT_FOUND', `There is no file at ${path}.`, { path });
    if (code === 'EISDIR') throw new StudioError('FILE_UNREADABLE', `${path} is a folder, not a file.`, { path });
    throw new StudioError('FILE_UNREADABLE', `${path} cannot be read (${code ?? String(e)}). Check its permissions.`, { path });
  }
}
