/** Shared test helpers: synthetic frames, a PATH lookup, ffprobe and raw decoding of exported files. */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { encodePng } from '../../../src/main/formats/png';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';

export function findTool(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * A smooth frame (two gradients) with a bright square moving with `t`: smooth areas codecs reproduce well plus an
 * edge that moves, so a frame-order mistake shows up as a large error.
 */
export function gradientFrame(w: number, h: number, t: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  const sq = Math.max(4, Math.floor(Math.min(w, h) / 4));
  const sx = (t * 5) % Math.max(1, w - sq);
  const sy = (t * 3) % Math.max(1, h - sq);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      const inSq = x >= sx && x < sx + sq && y >= sy && y < sy + sq;
      rgb[o] = inSq ? 240 : Math.round((x / Math.max(1, w - 1)) * 200);
      rgb[o + 1] = inSq ? 230 : Math.round((y / Math.max(1, h - 1)) * 180);
      rgb[o + 2] = inSq ? 40 : (60 + t * 11) & 0xff;
    }
  }
  return rgb;
}

export const TEST_PARAMS: GenerationParams = {
  ...DEFAULT_PARAMS,
  prompt: 'a corgi surfing a wave, (sunset:1.2), 猫',
  negativePrompt: 'blurry, low quality',
  seed: 1234567890123,
  frames: 10,
  width: 64,
  height: 48,
  fps: 8,
  loras: [{ path: '/loras/pixel-art.safetensors', weight: 0.7, name: 'pixel-art', sha256: 'ab'.repeat(32) }],
};

/** Write `n` frames as frame_0000.png … plus params.json, as the generator does. Returns the frames. */
export function writeFrames(dir: string, n: number, w: number, h: number, params?: GenerationParams, offset = 0): Uint8Array[] {
  mkdirSync(dir, { recursive: true });
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const f = gradientFrame(w, h, i + offset);
    frames.push(f);
    writeFileSync(join(dir, `frame_${String(i).padStart(4, '0')}.png`), encodePng(f, w, h));
  }
  if (params) writeFileSync(join(dir, 'params.json'), JSON.stringify(params));
  return frames;
}

export interface ProbeInfo {
  codec: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  durationS: number;
  pixFmt: string;
  tags: Record<string, string>;
}

export function probe(ffprobe: string, file: string): ProbeInfo {
  const out = execFileSync(ffprobe, [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,r_frame_rate,nb_read_frames,pix_fmt,duration:format=duration:format_tags',
    '-of', 'json', file,
  ]).toString('utf8');
  const j = JSON.parse(out) as {
    streams: Array<{ codec_name: string; width: number; height: number; r_frame_rate: string; nb_read_frames: string; pix_fmt: string; duration?: string }>;
    format: { duration?: string; tags?: Record<string, string> };
  };
  const s = j.streams[0];
  const [num, den] = s.r_frame_rate.split('/').map(Number);
  return {
    codec: s.codec_name,
    width: s.width,
    height: s.height,
    fps: num / den,
    frames: Number(s.nb_read_frames),
    durationS: Number(j.format.duration ?? s.duration ?? NaN),
    pixFmt: s.pix_fmt,
    tags: j.format.tags ?? {},
  };
}

/** Decode every frame of a video/GIF to RGB at its own size. */
export function decodeFrames(ffmpeg: string, file: string, width: number, height: number): Uint8Array[] {
  const raw = execFileSync(ffmpeg, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: 512 * 1024 * 1024,
  });
  const size = width * height * 3;
  const frames: Uint8Array[] = [];
  for (let o = 0; o + size <= raw.length; o += size) frames.push(new Uint8Array(raw.subarray(o, o + size)));
  return frames;
}

/** Mean absolute error per channel value (0–255) over the overlapping top-left width × height region. */
export function meanAbsError(a: Uint8Array, aw: number, b: Uint8Array, bw: number, width: number, height: number): number {
  let sum = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * 3; x++) sum += Math.abs(a[y * aw * 3 + x] - b[y * bw * 3 + x]);
  }
  return sum / (width * height * 3);
}

/**
 * Mean absolute error after averaging k × k blocks: dithering (GIF) trades per-pixel error for correct local
 * averages, so this is the error a viewer sees.
 */
export function blockMeanAbsError(a: Uint8Array, b: Uint8Array, width: number, height: number, k: number): number {
  let sum = 0;
  let n = 0;
  for (let by = 0; by + k <= height; by += k) {
    for (let bx = 0; bx + k <= width; bx += k) {
      for (let c = 0; c < 3; c++) {
        let sa = 0;
        let sb = 0;
        for (let y = by; y < by + k; y++) {
          for (let x = bx; x < bx + k; x++) {
            sa += a[(y * width + x) * 3 + c];
            sb += b[(y * width + x) * 3 + c];
          }
        }
        sum += Math.abs(sa - sb) / (k * k);
        n++;
      }
    }
  }
  return sum / n;
}
