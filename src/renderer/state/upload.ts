/**
 * Imports a File the page holds (file picker or drop) through the upload methods: chunks read with
 * File.slice, base64-encoded, sent in order. `onProgress` gets 0…1.
 */
import type { StudioApi } from '../../shared/api';
import type { ImportOptions, ImportResult } from '../../shared/domain/library';

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) bin += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(bin);
}

export async function uploadAndImport(api: StudioApi, file: File, options: ImportOptions = {}, onProgress?: (f: number) => void): Promise<ImportResult> {
  const { uploadId, chunkBytes } = await api.beginUpload(file.name, file.size);
  for (let offset = 0; offset < file.size; offset += chunkBytes) {
    const bytes = new Uint8Array(await file.slice(offset, offset + chunkBytes).arrayBuffer());
    await api.uploadChunk(uploadId, offset, toBase64(bytes));
    onProgress?.(Math.min(1, (offset + bytes.length) / file.size));
  }
  return api.finishUpload(uploadId, options);
}
