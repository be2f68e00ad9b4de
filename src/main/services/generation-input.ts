import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { StudioError } from '../../shared/errors';
import type { GenerationInput, GenerationParams } from '../../shared/domain/generation';
import { locateFfmpeg } from '../export/ffmpeg-locate';
import { decodePng, encodePng } from '../formats/png';
import { decodeImageFile } from '../media/decode-image';

/**
 * The picture or clip an image-to-video / video-to-video generation starts from, on the main side:
 *   store  — hash it and copy it into `<data dir>/inputs/` (a frames folder as a folder), so history can re-run
 *            the generation exactly even after the original is moved or edited;
 *   decode — ffmpeg (the decoder the main process has) turns it into 8-bit RGB PNGs the engine reads:
 *     image: the FIRST frame at its own size, 8-bit RGB as media/decode-image.ts reads it (what Pillow and
 *            OpenCV would read, and where ffmpeg differs); AnimateLCM's own resize_and_crop (Pillow LANCZOS
 *            port) then happens in the engine;
 *     video: resampled to the clip's fps with ffmpeg's `fps` filter (nearest frame in time: a variable frame
 *            rate becomes constant), the first F frames kept, scaled to cover the clip (Lanczos) and
 *            centre-cropped to exactly W×H; fewer than F frames is an error (never padded).
 *     frames folder: its image files in name order (natural numbering) are the frames, one per clip frame;
 *            each is scaled and cropped the same way.
 * Everything is written into a scratch folder first; a failure leaves nothing half-written.
 */

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff']);

function inputError(message: string, details: Record<string, unknown> = {}): StudioError {
  return new StudioError('INVALID_PARAMS', message, details);
}

/** The frame files of a frames folder, in natural name order. */
export function framesInFolder(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => IMAGE_EXTS.has(extname(n).toLowerCase()) && statSync(join(dir, n)).isFile());
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((n) => join(dir, n));
}

/** SHA-256 of a file, or of a frames folder (each frame's name and bytes, in order). */
export function hashInput(path: string): string {
  const h = createHash('sha256');
  if (statSync(path).isDirectory()) {
    for (const f of framesInFolder(path)) {
      h.update(f.slice(path.length + 1));
      h.update('\0');
      h.update(readFileSync(f));
    }
  } else {
    h.update(readFileSync(path));
  }
  return h.digest('hex');
}

/**
 * Copies the input into `<dataDir>/inputs/` under its hash (reused when already there) and returns the input
 * pointing at the copy. Refuses what is missing, empty, or a folder without frames.
 */
export function storeInput(input: GenerationInput, dataDir: string): GenerationInput {
  const src = input.path;
  if (!existsSync(src)) throw new StudioError('FILE_NOT_FOUND', `The ${input.kind} ${src} does not exist.`, { path: src });
  const st = statSync(src);
  if (st.isDirectory()) {
    if (input.kind === 'image') throw inputError(`${src} is a folder; an image input is one picture file.`, { path: src });
    if (framesInFolder(src).length === 0) throw inputError(`The folder ${src} holds no image files to use as video frames.`, { path: src });
  } else if (st.size === 0) {
    throw new StudioError('FILE_EMPTY', `The ${input.kind} file ${src} is empty.`, { path: src });
  }
  const sha256 = hashInput(src);
  const root = join(dataDir, 'inputs');
  mkdirSync(root, { recursive: true });
  const dest = join(root, st.isDirectory() ? sha256 : `${sha256}${extname(src).toLowerCase()}`);
  if (!existsSync(dest)) {
    const tmp = `${dest}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    if (st.isDirectory()) {
      mkdirSync(tmp);
      for (const f of framesInFolder(src)) copyFileSync(f, join(tmp, f.slice(src.length + 1)));
    } else {
      copyFileSync(src, tmp);
    }
    renameSync(tmp, dest);
  }
  return { ...input, path: dest, sha256 };
}

/** Runs ffmpeg quietly; rejects with its stderr attached (`lastLine` reads it). */
export function ffmpeg(args: string[], signal?: AbortSignal): Promise<string> {
  const tools = locateFfmpeg();
  return new Promise((resolve, reject) => {
    execFile(tools.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', ...args], { signal, maxBuffer: 1 << 20, windowsHide: true }, (err, _out, stderr) => {
      if (err) {
        if (signal?.aborted) reject(new StudioError('CANCELLED', 'Cancelled.'));
        else reject(Object.assign(err, { stderr: String(stderr) }));
      } else resolve(String(stderr));
    });
  });
}

/** The last line ffmpeg wrote for a failure: what a creator's error message quotes. */
export function lastLine(e: unknown): string {
  const s = (e as { stderr?: string }).stderr ?? (e instanceof Error ? e.message : String(e));
  return s.trim().split('\n').pop() ?? '';
}

/** Cover W×H (Lanczos), then crop the centre: the clip's exact size from any size or aspect. */
function coverCrop(w: number, h: number): string {
  return `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=lanczos,crop=${w}:${h},setsar=1,format=rgb24`;
}

/**
 * Decodes the (stored) input into PNG files in `workDir` (created; emptied first) and returns their paths:
 * one for an image, `params.frames` for a video. Throws INVALID_PARAMS with what to do when the input cannot serve.
 */
export async function decodeInput(params: GenerationParams, workDir: string, signal?: AbortSignal): Promise<string[]> {
  const input = params.input;
  if (!input) return [];
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const { width: W, height: H, frames: F } = params;
  if (input.kind === 'image') {
    const out = join(workDir, 'image.png');
    const image = await decodeImageFile(input.path, signal);
    writeFileSync(out, encodePng(image.data, image.width, image.height));
    return [out];
  }
  if (statSync(input.path).isDirectory()) {
    const files = framesInFolder(input.path);
    if (files.length < F) throw inputError(`The frames folder has ${files.length} frames; the clip needs ${F}. Lower the frame count or add frames.`, { have: files.length, need: F });
    const outs: string[] = [];
    for (let i = 0; i < F; i++) {
      const out = join(workDir, `frame_${String(i).padStart(4, '0')}.png`);
      try {
        await ffmpeg(['-i', files[i], '-frames:v', '1', '-vf', coverCrop(W, H), '-f', 'image2', out], signal);
      } catch (e) {
        if (isStudioErrorCancel(e)) throw e;
        throw inputError(`The frame ${files[i]} could not be read (${lastLine(e)}).`, { path: files[i] });
      }
      readable(out, files[i], 'frame');
      outs.push(out);
    }
    return outs;
  }
  try {
    await ffmpeg(['-i', input.path, '-map', '0:v:0', '-an', '-vf', `fps=${params.fps},${coverCrop(W, H)}`, '-frames:v', String(F), '-f', 'image2', join(workDir, 'frame_%04d.png')], signal);
  } catch (e) {
    if (isStudioErrorCancel(e)) throw e;
    // ffmpeg's last line for a missing stream is advice about the map; the reason is on an earlier line.
    const all = (e as { stderr?: string }).stderr ?? '';
    const noStream = /matches no streams|does not contain any stream/i.test(all);
    throw inputError(
      noStream ? `${input.path} has no video stream. Use a clip with a picture (MP4, WebM, MOV, GIF) or a folder of frames.` : `The video ${input.path} could not be read (${lastLine(e)}).`,
      { path: input.path },
    );
  }
  const got = readdirSync(workDir).filter((n) => /^frame_\d+\.png$/.test(n)).sort();
  if (got.length < F) {
    throw inputError(`The video gives ${got.length} frame(s) at ${params.fps} fps; the clip needs ${F}. Lower the frame count or fps, or use a longer video.`, { have: got.length, need: F, fps: params.fps });
  }
  const paths = got.slice(0, F).map((n) => join(workDir, n));
  paths.forEach((p) => readable(p, input.path, 'frame'));
  return paths;
}

function isStudioErrorCancel(e: unknown): boolean {
  return e instanceof StudioError && e.code === 'CANCELLED';
}

/** The decoded PNG exists and is one the engine can read. */
function readable(png: string, source: string, what: string): void {
  try {
    const d = decodePng(readFileSync(png));
    if (d.width < 1 || d.height < 1) throw new Error('empty');
  } catch {
    throw inputError(`The ${what} of ${source} could not be decoded.`, { path: source });
  }
}
