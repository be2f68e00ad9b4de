/**
 * ffmpeg command lines, one function per concern: input, size filters, codec settings per format, metadata.
 * Pure functions of the plan and options, so tests can read the exact arguments.
 *
 * Sizes: the output size is decided here, in TypeScript (not with ffmpeg's -2 expressions), so the exporter
 * knows what it wrote and the tests know what to expect.
 *
 * Odd sizes and yuv420p: H.264 4:2:0 needs even width and height. We PAD by one pixel on the right/bottom and
 * fill that pixel by repeating the edge (fillborders=smear) rather than scaling: every source pixel is kept
 * 1:1 (no resampling blur), and the extra line is invisible (no black border). VP9 encodes odd sizes itself,
 * so WebM keeps the exact size; GIF and PNG are RGB and keep it too.
 */
import type { ExportFormat, ExportQuality } from '../../shared/domain/export';
import { StudioError } from '../../shared/errors';

export interface OutputSize {
  width: number;
  height: number;
}

/** The size before codec padding: the requested scale (one side 0 = keep aspect) or the source size. */
export function targetSize(source: OutputSize, scale?: { width: number; height: number }): OutputSize {
  if (!scale) return source;
  const { width, height } = scale;
  const ok = (v: number) => Number.isInteger(v) && v >= 0 && v <= 8192;
  if (!ok(width) || !ok(height) || (width === 0 && height === 0)) {
    throw new StudioError('EXPORT_INVALID', `Scale ${width}x${height} is invalid: use whole numbers up to 8192 (one of them may be 0 to keep the aspect ratio).`, { width, height });
  }
  if (width === 0) return { width: Math.max(1, Math.round((height * source.width) / source.height)), height };
  if (height === 0) return { width, height: Math.max(1, Math.round((width * source.height) / source.width)) };
  return { width, height };
}

/** The size actually encoded: H.264 rounds odd sides up to even (see the header). */
export function encodedSize(format: ExportFormat, size: OutputSize): OutputSize {
  if (format !== 'mp4') return size;
  return { width: size.width + (size.width % 2), height: size.height + (size.height % 2) };
}

/** CRF per preset: roughly matched visual levels (x264 and VP9 scales differ). */
const X264_CRF: Record<ExportQuality, number> = { low: 28, medium: 23, high: 18, max: 12 };
const VP9_CRF: Record<ExportQuality, number> = { low: 40, medium: 34, high: 28, max: 20 };

/** GIF: palette and dithering per preset. Error diffusion looks best; Bayer compresses better. */
const GIF_DITHER: Record<ExportQuality, { colors: number; dither: string; diff: boolean }> = {
  low: { colors: 128, dither: 'bayer:bayer_scale=4', diff: true },
  medium: { colors: 256, dither: 'bayer:bayer_scale=2', diff: true },
  high: { colors: 256, dither: 'sierra2_4a', diff: false },
  max: { colors: 256, dither: 'floyd_steinberg', diff: false },
};

export interface BuildArgsInput {
  format: ExportFormat;
  fps: number;
  source: OutputSize;
  target: OutputSize;
  /**
   * Clips of different sizes: a normaliser process (`buildNormaliserArgs`) fits each frame into the target and
   * these arguments then read its raw frames, all of one size (see there why).
   */
  mixedSizes: boolean;
  quality?: ExportQuality;
  crf?: number;
  /** GIF: total plays (0 = forever). */
  plays: number;
  /** Tags for MP4/WebM (comment = A1111 text, description = JSON). */
  metadata?: Record<string, string>;
  /** Output file; for PNG the folder the frames go into. */
  output: string;
}

/**
 * The first of two piped processes for clips of different sizes: PNG frames in, each fitted inside the target
 * size (keeping its aspect, letterboxed) and written out as raw RGB frames, all of the target size.
 *
 * Why a separate process: ffmpeg rebuilds its filter graph whenever the input size changes, and a rebuild drops
 * what the old graph still holds. For MP4/WebM/PNG that is nothing, but GIF's palettegen holds every frame until
 * the end, so the clips before a size change vanished from the GIF without an error. `-reinit_filter 0` keeps the
 * graph but then `pad` letterboxes the later sizes wrongly. Here only scale and pad see the size changes (they
 * hold no frames), and the encoder gets a stream of one size.
 */
export function buildNormaliserArgs(i: { fps: number; target: OutputSize }): string[] {
  const { width: W, height: H } = i.target;
  return [
    '-hide_banner', '-loglevel', 'error', '-nostats',
    '-f', 'image2pipe', '-c:v', 'png', '-framerate', String(i.fps), '-i', 'pipe:0',
    '-vf', `scale=${W}:${H}:flags=lanczos:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2`,
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
}

function sizeFilters(i: BuildArgsInput): string[] {
  const { width: W, height: H } = i.target;
  const f: string[] = [];
  // Mixed sizes arrive already fitted to the target by the normaliser.
  if (!i.mixedSizes && (W !== i.source.width || H !== i.source.height)) {
    f.push(`scale=${W}:${H}:flags=lanczos`);
  }
  const enc = encodedSize(i.format, i.target);
  if (enc.width !== W || enc.height !== H) {
    // In planar RGB: left to negotiation, the conversion to 4:2:0 happens before the smear and leaves the edge's
    // chroma wrong; from packed rgb24, swscale (5.x) also mis-converts the padded column. gbrp converts cleanly.
    f.push('format=gbrp', `pad=${enc.width}:${enc.height}:0:0`, `fillborders=right=${enc.width - W}:bottom=${enc.height - H}:mode=smear`);
  }
  return f;
}

function checkCrf(crf: number | undefined, max: number): number | undefined {
  if (crf === undefined) return undefined;
  if (!Number.isInteger(crf) || crf < 0 || crf > max) throw new StudioError('EXPORT_INVALID', `CRF ${crf} is out of range for this format (0–${max}).`, { crf });
  return crf;
}

export function buildFfmpegArgs(i: BuildArgsInput): string[] {
  const quality = i.quality ?? 'high';
  const args = ['-hide_banner', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-y'];
  // Input: concatenated PNG files on stdin at the output rate (the plan already resampled time), or for mixed
  // sizes the normaliser's raw frames of the target size.
  if (i.mixedSizes) {
    args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${i.target.width}x${i.target.height}`, '-framerate', String(i.fps), '-i', 'pipe:0');
  } else {
    args.push('-f', 'image2pipe', '-c:v', 'png', '-framerate', String(i.fps), '-i', 'pipe:0');
  }
  const filters = sizeFilters(i);
  const meta = Object.entries(i.metadata ?? {}).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);

  switch (i.format) {
    case 'mp4': {
      const crf = checkCrf(i.crf, 51) ?? X264_CRF[quality];
      if (filters.length) args.push('-vf', filters.join(','));
      args.push('-c:v', 'libx264', '-preset', quality === 'max' ? 'slow' : 'medium', '-crf', String(crf), '-pix_fmt', 'yuv420p');
      // faststart: the index goes to the front so players (and browsers) start before the whole file arrives.
      args.push('-movflags', '+faststart', ...meta, '-f', 'mp4', i.output);
      break;
    }
    case 'webm': {
      const crf = checkCrf(i.crf, 63) ?? VP9_CRF[quality];
      if (filters.length) args.push('-vf', filters.join(','));
      // -b:v 0 makes -crf constant quality (otherwise it is a cap on a default bitrate).
      args.push('-c:v', 'libvpx-vp9', '-crf', String(crf), '-b:v', '0', '-pix_fmt', 'yuv420p', '-row-mt', '1');
      args.push('-deadline', 'good', '-cpu-used', quality === 'max' ? '1' : '4', ...meta, '-f', 'webm', i.output);
      break;
    }
    case 'gif': {
      const g = GIF_DITHER[quality];
      const pre = filters.length ? `${filters.join(',')},` : '';
      // One palette for the whole clip (stats_mode=full) so colours do not flicker between frames.
      const graph =
        `${pre}split[a][b];[a]palettegen=max_colors=${g.colors}:stats_mode=full:reserve_transparent=0[p];` +
        `[b][p]paletteuse=dither=${g.dither}${g.diff ? ':diff_mode=rectangle' : ''}`;
      // GIF -loop: 0 forever, -1 play once, N = N extra plays.
      const loop = i.plays === 0 ? 0 : i.plays === 1 ? -1 : i.plays - 1;
      args.push('-filter_complex', graph, '-loop', String(loop), '-f', 'gif', i.output);
      break;
    }
    case 'png': {
      if (filters.length) args.push('-vf', filters.join(','));
      args.push('-c:v', 'png', '-pix_fmt', 'rgb24', '-start_number', '0', '-f', 'image2', `${i.output.replace(/%/g, '%%')}/frame_%04d.png`); // image2 reads % as a pattern
      break;
    }
  }
  return args;
}
