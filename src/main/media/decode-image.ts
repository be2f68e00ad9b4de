/**
 * A picture file → 8-bit RGB at its own size, as close as ffmpeg gets to what AnimateLCM-I2V's code reads:
 * `Image.open(path).convert('RGB')` (Pillow, for the VAE) and `cv2.imread(path)` (OpenCV, for adjust_colors).
 *
 *   exact: 8-bit grey, grey+alpha, RGB, RGBA, palette (with or without transparency) PNGs, and any size or aspect:
 *          alpha is dropped without compositing, as both Pillow and OpenCV drop it;
 *   16-bit PNG: the high byte of each sample (Pillow does so for 16-bit colour, OpenCV for colour and grey). For
 *          16-bit GREY Pillow's convert('RGB') clips the value to 255 (nearly every pixel turns white); that is
 *          not reproduced: the high byte is kept, as OpenCV (the authors' colour-match source) reads it;
 *   animated GIF: its first frame (Pillow's first frame; OpenCV 4.6 cannot read a GIF at all);
 *   JPEG: ffmpeg's decoder is not libjpeg. With swscale's accurate rounding and full chroma interpolation a photo
 *          lands within a few levels of Pillow (measured on test/fixtures/inputs: max 4, mean 0.6 for 4:2:0; hard
 *          4-pixel colour blocks reach tens of levels at their edges); a CMYK JPEG within 2 levels, because
 *          ffmpeg folds K into RGB as (c·k·257)>>16 where Pillow rounds (255−k)−c(255−k)/255;
 *   damaged files (truncated, bad checksum, broken entropy data) are refused, never half decoded: Pillow refuses
 *          a truncated file too.
 */
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { StudioError } from '../../shared/errors';
import type { RgbImage } from '../engine/image/rgb-image';
import { locateFfmpeg } from '../export/ffmpeg-locate';

/** swscale's flags for the one conversion to RGB: rounding and chroma closest to libjpeg's. */
const SWS_FLAGS = 'accurate_rnd+full_chroma_int+bitexact';

/** Pixel formats of more than 8 bits per sample (ffmpeg names end in their depth and endianness). */
const DEEP_PIX_FMT = /(?:9|10|12|14|16|48|64)(?:le|be)$/;

interface Probe {
  width: number;
  height: number;
  pixFmt: string;
}

/** Decodes the first picture of `path`. Throws INVALID_PARAMS naming the file when it is not a readable picture. */
export async function decodeImageFile(path: string, signal?: AbortSignal): Promise<RgbImage> {
  const probe = await probeImage(path, signal);
  const deep = DEEP_PIX_FMT.test(probe.pixFmt);
  const bytes = deep ? 6 : 3;
  const frame = probe.width * probe.height * bytes;
  let out: Buffer;
  try {
    // -xerror + explode: a truncated or damaged file fails instead of yielding a grey-filled half picture.
    out = await run(
      ['-xerror', '-err_detect', 'explode', '-i', path, '-map', '0:v:0', '-frames:v', '1', '-sws_flags', SWS_FLAGS, '-f', 'rawvideo', '-pix_fmt', deep ? 'rgb48le' : 'rgb24', 'pipe:1'],
      frame + 1024,
      signal,
    );
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw unreadable(path, e);
  }
  if (out.length !== frame) throw unreadable(path, new Error(`got ${out.length} bytes for a ${probe.width}×${probe.height} picture`));
  if (!deep) return { width: probe.width, height: probe.height, data: new Uint8Array(out.buffer, out.byteOffset, out.length) };
  const data = new Uint8Array(probe.width * probe.height * 3);
  // Little-endian 16-bit samples: the high byte is the odd one.
  for (let i = 0; i < data.length; i++) data[i] = out[i * 2 + 1];
  return { width: probe.width, height: probe.height, data };
}

async function probeImage(path: string, signal?: AbortSignal): Promise<Probe> {
  let info: string;
  try {
    // `ffmpeg -i` without an output exits 1 by design; what it found is on stderr.
    info = await run(['-i', path], 1 << 20, signal, true).then((b) => b.toString('utf8'));
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw unreadable(path, e);
  }
  const stream = /Stream #\d+:\d+[^\n]*?: Video: [^,\n]+(?:\([^)\n]*\))?, ([a-z0-9_]+)(?:\([^)\n]*\))?, (\d{1,5})x(\d{1,5})/.exec(info);
  if (!stream) {
    if (/Stream #\d+:\d+[^\n]*: Audio:/.test(info)) {
      throw new StudioError('INVALID_PARAMS', `${basename(path)} holds only sound, no picture. Use a PNG, JPEG or WebP picture.`, { path });
    }
    throw unreadable(path, Object.assign(new Error('not a picture'), { stderr: info }));
  }
  return { pixFmt: stream[1], width: Number(stream[2]), height: Number(stream[3]) };
}

function unreadable(path: string, e: unknown): StudioError {
  const stderr = (e as { stderr?: string }).stderr ?? (e instanceof Error ? e.message : String(e));
  const why = stderr.trim().split('\n').pop() ?? '';
  return new StudioError('INVALID_PARAMS', `The image ${basename(path)} could not be read (${why}). Use a PNG, JPEG or WebP picture.`, { path });
}

/** Runs ffmpeg; resolves its stdout (or, with `stderrOut`, its stderr whatever the exit status). */
function run(args: string[], maxBuffer: number, signal: AbortSignal | undefined, stderrOut = false): Promise<Buffer> {
  const { ffmpeg } = locateFfmpeg();
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, ['-hide_banner', '-nostdin', ...(stderrOut ? [] : ['-v', 'error']), ...args], { signal, maxBuffer, encoding: 'buffer', windowsHide: true }, (err, stdout, stderr) => {
      if (signal?.aborted) reject(new StudioError('CANCELLED', 'Cancelled.'));
      else if (stderrOut) resolve(stderr);
      else if (err) reject(Object.assign(err, { stderr: stderr.toString('utf8') }));
      else resolve(stdout);
    });
  });
}
