/**
 * Sends a File the page holds (file picker or drop) through the upload methods, then imports it into the library
 * or stores it as a generation input: chunks read with
 * File.slice, base64-encoded, sent in order. `onProgress` gets 0…1.
 */
import type { StoredInput, StudioApi } from '../../shared/api';
import type { ImportOptions, ImportResult } from '../../shared/domain/library';

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) bin += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(bin);
}

/** Sends the file's bytes in order and returns the upload, ready for one of the finish methods. */
async function sendFile(api: StudioApi, file: File, onProgress?: (f: number) => void): Promise<string> {
  const { uploadId, chunkBytes } = await api.beginUpload(file.name, file.size);
  for (let offset = 0; offset < file.size; offset += chunkBytes) {
    const bytes = new Uint8Array(await file.slice(offset, offset + chunkBytes).arrayBuffer());
    await api.uploadChunk(uploadId, offset, toBase64(bytes));
    onProgress?.(Math.min(1, (offset + bytes.length) / file.size));
  }
  return uploadId;
}

export async function uploadAndImport(api: StudioApi, file: File, options: ImportOptions = {}, onProgress?: (f: number) => void): Promise<ImportResult> {
  return api.finishUpload(await sendFile(api, file, onProgress), options);
}

/** Uploads a picture or clip as a generation input (Generate's drop zone): stored under its hash, with a thumbnail. */
export async function uploadInput(api: StudioApi, file: File, kind: StoredInput['kind'], onProgress?: (f: number) => void): Promise<StoredInput> {
  return api.finishInputUpload(await sendFile(api, file, onProgress), kind);
}
