/**
 * File-system failures while writing an export, turned into errors a creator can act on. Every write path of
 * the exporter (temporary file, ffmpeg's own output, metadata post-processing, the final rename) goes through
 * here, so a full disk always reads DISK_FULL and a read-only folder always says so.
 */
import { StudioError } from '../../shared/errors';

export function writeError(e: unknown, path: string): StudioError {
  if (e instanceof StudioError) return e;
  const code = (e as { code?: unknown }).code;
  const cause = e instanceof Error ? e.message : String(e);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StudioError('DISK_FULL', `The disk is full while writing ${path}. Free some space and export again.`, { path, cause });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StudioError('FILE_UNWRITABLE', `Cannot write ${path}: permission denied. Choose a folder you can write to.`, { path, cause });
    case 'ENOENT':
    case 'ENOTDIR':
      return new StudioError('FILE_NOT_FOUND', `Cannot write ${path}: its folder does not exist.`, { path, cause });
    case 'EISDIR':
      return new StudioError('EXPORT_INVALID', `Cannot write ${path}: a folder with that name is in the way.`, { path, cause });
    default:
      return new StudioError('EXPORT_INVALID', `Cannot write ${path}: ${cause}`, { path, cause, code: typeof code === 'string' ? code : undefined });
  }
}

/** Classify ffmpeg's stderr when it fails to write (it reports errno text, not codes). */
export function ffmpegWriteError(stderr: string, path: string): StudioError | undefined {
  if (/No space left on device|Disk quota exceeded/i.test(stderr)) return writeError({ code: 'ENOSPC', message: 'No space left on device' }, path);
  if (/Permission denied|Read-only file system/i.test(stderr)) return writeError({ code: 'EACCES', message: 'Permission denied' }, path);
  return undefined;
}
