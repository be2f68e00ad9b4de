/**
 * Images, videos and folders of frames → RGB bytes at their own size, through ffmpeg. Used for ControlNet
 * conditioning frames; named for what it is so image/video inputs of other modes (I2V, V2V) can share it.
 * Nothing here resizes: callers resize as their reference does (ControlNet: Pillow's Lanczos, shared/control).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { StudioError } from '../../shared/errors';
import { locateFfmpeg } from '../export/ffmpeg-locate';

export interface DecodedFrames {
  width: number;
  height: number;
  /** One H×W×3 RGB byte array per frame. */
  frames: Uint8Array[];
  /** True when the source had more frames than were asked for. */
  truncated: boolean;
  kind: 'image' | 'video' | 'folder';
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff']);

/** Decodes `path` (an image, a video or a folder of images, sorted by name) into at most `maxFrames` frames. */
export function decodeFrames(path: string, maxFrames: number): DecodedFrames {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new StudioError('FILE_NOT_FOUND', `${path} does not exist.`, { path });
  }
  const ffmpeg = locateFfmpeg().ffmpeg;
  if (st.isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (files.length === 0) throw new StudioError('INVALID_PARAMS', `${path} holds no images (${[...IMAGE_EXT].join(', ')}).`, { path });
    const frames: Uint8Array[] = [];
    let size: { width: number; height: number } | undefined;
    for (const f of files.slice(0, maxFrames)) {
      const one = decodeWithFfmpeg(ffmpeg, join(path, f), 1);
      if (size && (one.width !== size.width || one.height !== size.height)) {
        throw new StudioError('INVALID_PARAMS', `The frames in ${path} differ in size: ${f} is ${one.width}×${one.height}, the first is ${size.width}×${size.height}.`, { path, file: f });
      }
      size ??= { width: one.width, height: one.height };
      frames.push(one.frames[0]);
    }
    return { ...size!, frames, truncated: files.length > maxFrames, kind: 'folder' };
  }
  const image = IMAGE_EXT.has(extname(path).toLowerCase());
  const d = decodeWithFfmpeg(ffmpeg, path, image ? 1 : maxFrames + 1);
  const truncated = d.frames.length > maxFrames;
  return { width: d.width, height: d.height, frames: d.frames.slice(0, maxFrames), truncated, kind: image ? 'image' : 'video' };
}

function decodeWithFfmpeg(ffmpeg: string, path: string, maxFrames: number): { width: number; height: number; frames: Uint8Array[] } {
  const probe = spawnSync(ffmpeg, ['-hide_banner', '-i', path], { encoding: 'utf8' });
  const m = /Stream #\d+:\d+[^\n]*: Video: [^\n]*?, (\d{1,5})x(\d{1,5})[,\s[]/.exec(probe.stderr ?? '');
  if (!m) {
    const why = (probe.stderr ?? '').trim().split('\n').pop() ?? '';
    throw new StudioError('FORMAT_UNKNOWN', `${basename(path)} is not an image or video ffmpeg can read${why ? ` (${why})` : ''}.`, { path });
  }
  const width = Number(m[1]);
  const height = Number(m[2]);
  const r = spawnSync(ffmpeg, ['-v', 'error', '-i', path, '-frames:v', String(maxFrames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: width * height * 3 * (maxFrames + 1) + 1024 });
  const per = width * height * 3;
  const out = r.stdout as Buffer | null;
  if (r.status !== 0 || !out || out.length === 0 || out.length % per !== 0) {
    throw new StudioError('FORMAT_UNKNOWN', `${basename(path)} could not be decoded (${(r.stderr?.toString() ?? '').trim().split('\n').pop() || 'no frames'}).`, { path });
  }
  const frames: Uint8Array[] = [];
  for (let o = 0; o < out.length; o += per) frames.push(new Uint8Array(out.subarray(o, o + per)));
  return { width, height, frames };
}
