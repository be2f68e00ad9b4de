/**
 * One export, start to finish:
 *   1. check the options and plan the frames (trims, speeds, rate, ping-pong, loops)
 *   2. find ffmpeg
 *   3. claim a temporary name beside the destination (proves the folder is writable before any work)
 *   4. run ffmpeg into the temporary name, reporting progress; cancel kills it
 *   5. embed parameters where ffmpeg cannot (GIF comments, PNG text chunks)
 *   6. rename into place: the destination only ever holds a complete file
 * Any failure or cancel removes the temporary file or folder.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ExportOptions, ExportProgress, ExportResult, ExportSource } from '../../shared/domain/export';
import { EXPORT_FORMATS, EXPORT_QUALITIES } from '../../shared/domain/export';
import { StudioError } from '../../shared/errors';
import { temporarySibling, trashSibling } from '../store/atomic-files';
import { containerTags, gifComments } from './embedded-params';
import { paramsPayload, pngTextChunks } from '../formats/params-payload';
import { buildFfmpegArgs, encodedSize, targetSize } from './ffmpeg-args';
import { locateFfmpeg, type FfmpegTools } from './ffmpeg-locate';
import { planFrames } from './frame-plan';
import { writeError } from './fs-errors';
import { insertGifComments } from './gif-comment';
import { addPngText } from '../formats/png';
import { runFfmpeg } from './run-ffmpeg';

export interface ExportRun {
  /** Destination file (a folder for the PNG sequence). */
  out: string;
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
  /** Injected tools (tests, or a service that located them once). */
  tools?: FfmpegTools;
  /** Replace an existing destination (default true: a save dialog already asked). */
  overwrite?: boolean;
}

function checkOptions(o: ExportOptions): void {
  if (!EXPORT_FORMATS.includes(o.format)) {
    throw new StudioError('EXPORT_INVALID', `Unknown export format "${String(o.format)}"; use one of ${EXPORT_FORMATS.join(', ')}.`);
  }
  if (o.quality !== undefined && !EXPORT_QUALITIES.includes(o.quality)) {
    throw new StudioError('EXPORT_INVALID', `Unknown quality "${String(o.quality)}"; use one of ${EXPORT_QUALITIES.join(', ')}.`);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claim the temporary path: a file (or folder for PNG) in the destination's folder, named as the store names its
 * temporaries (`.tmp-<pid>-…`), so the store's sweep removes what a crashed export leaves behind.
 */
async function claimTemp(out: string, asDir: boolean): Promise<string> {
  const temp = temporarySibling(out);
  try {
    const st = await stat(dirname(out));
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    if (asDir) await mkdir(temp);
    else await (await open(temp, 'wx')).close();
  } catch (e) {
    throw writeError(e, out);
  }
  return temp;
}

async function sizeOnDisk(p: string): Promise<number> {
  const st = await stat(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const n of await readdir(p)) total += (await stat(join(p, n))).size;
  return total;
}

export async function exportClip(source: ExportSource, options: ExportOptions, run: ExportRun): Promise<ExportResult> {
  // 1. options and plan
  checkOptions(options);
  const plan = planFrames(source, options);
  const target = targetSize({ width: plan.sourceWidth, height: plan.sourceHeight }, options.scale);
  const size = encodedSize(options.format, target);
  const out = resolve(run.out);
  if ((await exists(out)) && run.overwrite === false) {
    throw new StudioError('EXPORT_INVALID', `${out} already exists. Choose another name or allow overwriting.`, { out });
  }
  if (options.format !== 'png' && (await exists(out)) && (await stat(out)).isDirectory()) {
    throw new StudioError('EXPORT_INVALID', `${out} is a folder; give a file name for a ${options.format.toUpperCase()} export.`, { out });
  }

  // 2. ffmpeg
  const tools = run.tools ?? locateFfmpeg();
  if (run.signal?.aborted) throw new StudioError('CANCELLED', 'Export cancelled.');

  // 3. temporary name beside the destination (same file system, so the final rename is atomic)
  const asDir = options.format === 'png';
  const temp = await claimTemp(out, asDir);
  const params = options.stripParams ? undefined : plan.params;
  const payload = params ? paramsPayload(params) : undefined;
  const totalFrames = plan.files.length;
  try {
    // 4. encode
    const args = buildFfmpegArgs({
      format: options.format,
      fps: plan.fps,
      source: { width: plan.sourceWidth, height: plan.sourceHeight },
      target,
      mixedSizes: plan.mixedSizes,
      quality: options.quality,
      crf: options.crf,
      plays: plan.plays,
      metadata: payload && (options.format === 'mp4' || options.format === 'webm') ? containerTags(payload) : undefined,
      output: temp,
    });
    await runFfmpeg({ ffmpeg: tools.ffmpeg, args, inputFiles: plan.files, output: out, totalFrames, signal: run.signal, onProgress: run.onProgress });
    if (run.signal?.aborted) throw new StudioError('CANCELLED', 'Export cancelled.');

    // 5. parameters where ffmpeg cannot write them
    try {
      if (payload && options.format === 'gif') {
        await writeFile(temp, insertGifComments(await readFile(temp), gifComments(payload)));
      } else if (payload && options.format === 'png') {
        const chunks = pngTextChunks(payload);
        for (const n of await readdir(temp)) await writeFile(join(temp, n), addPngText(await readFile(join(temp, n)), chunks));
      }
    } catch (e) {
      throw writeError(e, out);
    }

    // 6. into place
    try {
      // A folder cannot be renamed over another: move the old one aside first, remove it after the swap.
      const aside = asDir && (await exists(out)) ? trashSibling(out) : undefined;
      if (aside) await rename(out, aside);
      await rename(temp, out);
      if (aside) await rm(aside, { recursive: true, force: true });
    } catch (e) {
      throw writeError(e, out);
    }
  } catch (e) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  const bytes = await sizeOnDisk(out);
  return {
    path: out,
    format: options.format,
    frames: totalFrames,
    width: size.width,
    height: size.height,
    fps: plan.fps,
    durationMs: Math.round((totalFrames / plan.fps) * 1000),
    bytes,
  };
}
