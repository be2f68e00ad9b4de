/**
 * Where an export may go, and how the finished temporary is put there. The rule: an export never deletes or
 * replaces anything it did not create.
 *
 * - The path must be absolute: a relative one would resolve against whatever folder the server (or `npm run`)
 *   happens to run in, not the one the creator means.
 * - A file format goes to a new name. An existing file is replaced only when the caller asked (`overwrite`, the
 *   CLI's --overwrite, or a save dialog that already asked); a folder is never replaced.
 * - A PNG sequence goes into a new folder or an existing empty one, never over files.
 *
 * The checks run before any work (a clear error, nothing written) and again at the moment of publishing, where
 * the step itself refuses to clobber: a new file is hard-linked into place (link fails if the name appeared
 * meanwhile), a folder is renamed onto a name that is free or an empty folder (rename fails on a non-empty one).
 */
import { link, lstat, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { ExportFormat } from '../../shared/domain/export';
import { StudioError } from '../../shared/errors';
import { writeError } from './fs-errors';

/** How the finished export will be put in place. */
export type Placement = 'new-file' | 'replace-file' | 'new-folder' | 'empty-folder';

/** `existing`: what is in the way, so a caller can offer the one way past it (overwriting a file). */
function exists(out: string, what: string, existing: 'file' | 'folder'): StudioError {
  return new StudioError('EXPORT_TARGET_EXISTS', `${out} already exists${what}. Choose a new name; nothing was changed.`, { path: out, existing });
}

async function entry(p: string): Promise<{ isDir: boolean; empty: boolean } | undefined> {
  try {
    const st = await lstat(p);
    const isDir = st.isDirectory();
    return { isDir, empty: isDir && (await readdir(p)).length === 0 };
  } catch {
    // ENOENT: free. ENOTDIR (a file where a folder should be) or EACCES: claiming the temporary reports these.
    return undefined;
  }
}

/** True when something (file, folder, even a dangling link) already has this name. */
export async function isTaken(p: string): Promise<boolean> {
  return (await entry(p)) !== undefined;
}

/** Check a destination before any work; says how the result will be placed. */
export async function checkDestination(out: string, format: ExportFormat, overwrite: boolean): Promise<Placement> {
  if (!isAbsolute(out)) {
    throw new StudioError('EXPORT_INVALID', `"${out}" is a relative path; give the full path of the file or folder to export to.`, { path: out });
  }
  const e = await entry(out);
  if (format === 'png') {
    if (!e) return 'new-folder';
    if (e.isDir && e.empty) return 'empty-folder';
    throw e.isDir ? exists(out, ' and holds files; a PNG sequence goes into a new or empty folder', 'folder') : exists(out, ' as a file; a PNG sequence needs a folder', 'file');
  }
  if (!e) return 'new-file';
  if (e.isDir) throw exists(out, ` as a folder; give a file name for a ${format.toUpperCase()} export`, 'folder');
  if (!overwrite) throw exists(out, '', 'file');
  return 'replace-file';
}

/** Codes meaning "this file system has no hard links" (FAT/exFAT, some network shares). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/** Put the finished temporary in place without ever removing what is there; the caller removes `temp` on failure. */
export async function publish(temp: string, out: string, placement: Placement): Promise<void> {
  try {
    switch (placement) {
      case 'replace-file':
        await rename(temp, out);
        return;
      case 'new-file':
        try {
          await link(temp, out);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? '';
          if (code === 'EEXIST') throw exists(out, ' (it appeared during the export)', 'file');
          if (!NO_LINKS.has(code)) throw e;
          // No hard links here: check once more, then rename (a tiny window instead of none).
          if (await entry(out)) throw exists(out, ' (it appeared during the export)', 'file');
          await rename(temp, out);
          return;
        }
        await rm(temp, { force: true });
        return;
      case 'new-folder':
      case 'empty-folder':
        try {
          // POSIX replaces an empty folder and refuses a non-empty one in one step.
          await rename(temp, out);
        } catch (e) {
          const now = await entry(out);
          if (now && !(now.isDir && now.empty)) throw exists(out, ' (it appeared during the export)', now.isDir ? 'folder' : 'file');
          if (!now) throw e;
          // Windows will not rename onto an existing folder: rmdir removes it only while it is empty.
          await rmdir(out);
          await rename(temp, out);
        }
        return;
    }
  } catch (e) {
    throw writeError(e, out);
  }
}
