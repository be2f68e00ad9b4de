/**
 * An uploaded picture or clip becomes a generation input: the page (web, or Electron's sandboxed renderer) cannot
 * name a file by path, so Generate's drop zone / picker uploads it (upload-service.ts) and this stores it.
 * ffmpeg first makes a small PNG of its first frame from the uploaded copy: that both proves the file decodes (a
 * text file called .png, a truncated PNG, a clip without a video stream are refused here, before anything is
 * stored) and gives Generate its thumbnail. Only then is the file stored under its hash (storeInput) and the
 * thumbnail kept at `<data>/inputs/thumbnails/<sha256>.png`, a place the media rules serve.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { StoredInput } from '../../shared/api';
import { DEFAULT_MOTION_SCALE, DEFAULT_V2V_STRENGTH, type GenerationInput } from '../../shared/domain/generation';
import { StudioError } from '../../shared/errors';
import { ffmpeg, lastLine, storeInput } from './generation-input';

/** Longest side of an input's thumbnail, in pixels. */
export const INPUT_THUMBNAIL_SIZE = 256;

export function inputThumbnailsDir(dataDir: string): string {
  return join(dataDir, 'inputs', 'thumbnails');
}

/**
 * Stores the file at `path` (the creator called it `name`) as an image or video input and returns where it and its
 * thumbnail are. Throws INVALID_PARAMS naming the file when ffmpeg cannot read a frame from it.
 */
export async function storeUploadedInput(path: string, name: string, kind: StoredInput['kind'], dataDir: string): Promise<StoredInput> {
  const thumbs = inputThumbnailsDir(dataDir);
  mkdirSync(thumbs, { recursive: true });
  const tmp = join(thumbs, `.tmp-${process.pid}-${basename(path)}.png`);
  const box = INPUT_THUMBNAIL_SIZE;
  try {
    // -xerror + explode: a damaged file (a JPEG cut short included) is an error, not a half-decoded picture.
    await ffmpeg(['-xerror', '-err_detect', 'explode', '-i', path, '-map', '0:v:0', '-frames:v', '1', '-vf', `scale=${box}:${box}:force_original_aspect_ratio=decrease,format=rgb24`, '-f', 'image2', '-y', tmp]);
    if (!existsSync(tmp)) throw new Error('no frame');
  } catch (e) {
    rmSync(tmp, { force: true });
    const what = kind === 'image' ? 'Use a PNG, JPEG or WebP picture.' : 'Use an MP4, WebM, MOV or GIF clip.';
    // ffmpeg's last line for a sound-only file is advice about the map; the reason is on an earlier line.
    if (/matches no streams/.test((e as { stderr?: string }).stderr ?? '')) {
      throw new StudioError('INVALID_PARAMS', `${name} has no ${kind === 'image' ? 'picture' : 'video stream'} (only sound). ${what}`, { name });
    }
    throw new StudioError('INVALID_PARAMS', `${name} could not be read as ${kind === 'image' ? 'an image' : 'a video'} (${lastLine(e)}). ${what}`, { name });
  }
  const input: GenerationInput =
    kind === 'image' ? { kind, path, motionScale: DEFAULT_MOTION_SCALE, colorMatch: true } : { kind, path, strength: DEFAULT_V2V_STRENGTH };
  const stored = storeInput(input, dataDir);
  const sha256 = stored.sha256 ?? '';
  const thumbnail = join(thumbs, `${sha256}.png`);
  renameSync(tmp, thumbnail);
  return { kind, path: stored.path, sha256, thumbnail, name };
}
