/**
 * Which files the renderer may load as media (frames, clips, thumbnails, previews): only regular files with a
 * media extension inside the studio's own folders, after resolving symlinks, so neither `..` nor a link can reach
 * anything else. Shared by the Electron media protocol and the web server's media route.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, sep } from 'node:path';
import { StudioError } from '../../shared/errors';

export const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

export interface MediaFile {
  path: string;
  size: number;
  contentType: string;
}

/** Resolves an absolute path to a servable media file, or throws NOT_FOUND (deliberately the same for "outside"). */
export async function resolveMediaFile(roots: readonly string[], requested: string): Promise<MediaFile> {
  const notFound = () => new StudioError('NOT_FOUND', 'That media file is not part of the studio.', { path: requested });
  if (!isAbsolute(requested) || requested.includes('\0')) throw notFound();
  const contentType = MEDIA_TYPES[extname(requested).toLowerCase()];
  if (!contentType) throw notFound();
  let real: string;
  try {
    real = await realpath(requested);
  } catch {
    throw notFound();
  }
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => null)));
  const inside = realRoots.some((r) => r !== null && real.startsWith(r.endsWith(sep) ? r : r + sep));
  if (!inside) throw notFound();
  const s = await stat(real);
  if (!s.isFile()) throw notFound();
  return { path: real, size: s.size, contentType };
}
