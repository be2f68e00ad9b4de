import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resizeAndCrop } from '../../../src/main/engine/image/pil-resize';
import { decodePng } from '../../../src/main/formats/png';
import { decodeInput } from '../../../src/main/services/generation-input';
import { StudioError } from '../../../src/shared/errors';
import { tinyParams } from '../generation/helpers';

/**
 * Issue 15's bad-input list on real files. Pictures: test/fixtures/inputs (made by its make.py with Pillow 9.4 and
 * OpenCV 4.6; each `<file>.pil.rgb` is Pillow's convert('RGB'), what AnimateLCM's encode_img sees). Videos are made
 * here by ffmpeg: an odd size, a variable frame rate, too short, sound only.
 */
const FX = join(__dirname, '..', '..', 'fixtures', 'inputs');
const info = JSON.parse(readFileSync(join(FX, 'pil.json'), 'utf8')) as Record<string, { width: number; height: number; mode: string; cv2: boolean }>;
const dir = mkdtempSync(join(tmpdir(), 'bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ff = (...args: string[]): void => void execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);

let n = 0;
const work = (): string => join(dir, `work-${n++}`);
async function decodeImage(file: string): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const [png] = await decodeInput(tinyParams({ input: { kind: 'image', path: join(FX, file), motionScale: 0.8, colorMatch: true } }), work());
  return decodePng(readFileSync(png));
}
const ref = (file: string, kind: 'pil' | 'cv' | 'crop16'): Uint8Array => new Uint8Array(readFileSync(join(FX, `${file}.${kind}.rgb`)));
const maxDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const meanDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

async function failure(p: Promise<unknown>): Promise<StudioError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StudioError);
  return e as StudioError;
}

describe('image inputs: what Pillow reads, or a documented adaptation', () => {
  it('8-bit PNGs of any size or aspect, grey, grey+alpha, RGBA, palette with transparency, animated GIF (first frame): exactly Pillow', async () => {
    for (const file of ['grey.png', 'la.png', 'rgba.png', 'palette-trns.png', 'anim.gif', 'one-pixel.png', 'wide-300x2.png', 'tall-3x300.png']) {
      const got = await decodeImage(file);
      expect([got.width, got.height], file).toEqual([info[file].width, info[file].height]);
      expect(maxDiff(got.rgb, ref(file, 'pil')), file).toBe(0);
    }
    // The alpha channel really was there and is dropped, not composited (OpenCV's imread drops it too).
    expect(maxDiff(ref('rgba.png', 'pil'), ref('rgba.png', 'cv'))).toBe(0);
  });

  it('16-bit PNG: the high byte (Pillow for colour, OpenCV for both); Pillow clips 16-bit grey to white, which is not copied', async () => {
    const rgb16 = await decodeImage('rgb16.png');
    expect(maxDiff(rgb16.rgb, ref('rgb16.png', 'pil'))).toBe(0);
    const grey16 = await decodeImage('grey16.png');
    expect(maxDiff(grey16.rgb, ref('grey16.png', 'cv'))).toBe(0);
    // Why not Pillow here: its convert('RGB') of mode I saturates, so almost every pixel is 255.
    expect(ref('grey16.png', 'pil').filter((v) => v === 255).length).toBeGreaterThan(0.9 * grey16.rgb.length);
  });

  it('JPEG: CMYK within 2 levels of Pillow, a 4:2:0 photo within 4 (mean ≤ 0.7), at the file size', async () => {
    const cmyk = await decodeImage('cmyk.jpg');
    expect([cmyk.width, cmyk.height]).toEqual([37, 23]);
    expect(info['cmyk.jpg'].mode).toBe('CMYK');
    expect(maxDiff(cmyk.rgb, ref('cmyk.jpg', 'pil'))).toBeLessThanOrEqual(2);
    const photo = await decodeImage('photo420.jpg');
    expect(maxDiff(photo.rgb, ref('photo420.jpg', 'pil'))).toBeLessThanOrEqual(4);
    expect(meanDiff(photo.rgb, ref('photo420.jpg', 'pil'))).toBeLessThanOrEqual(0.7);
  });

  it("odd aspects reach the engine's resize_and_crop as Pillow's: 1×1, 300×2 and 3×300 to 16×16 exactly", async () => {
    for (const file of ['one-pixel.png', 'wide-300x2.png', 'tall-3x300.png']) {
      const got = await decodeImage(file);
      const crop = resizeAndCrop({ width: got.width, height: got.height, data: got.rgb }, 16, 16);
      expect(maxDiff(crop.data, ref(file, 'crop16')), file).toBe(0);
    }
  });

  it('truncated, corrupt and non-picture files are refused with the file named; nothing is left in the scratch folder', async () => {
    const sound = join(dir, 'sound.wav');
    ff('-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.3', sound);
    const cases: Array<[string, RegExp]> = [
      [join(FX, 'truncated.jpg'), /The image truncated\.jpg could not be read \(.+\)\. Use a PNG, JPEG or WebP picture\./],
      [join(FX, 'corrupt.png'), /The image corrupt\.png could not be read/],
      [join(FX, 'make.py'), /The image make\.py could not be read/],
      [sound, /sound\.wav holds only sound, no picture/],
    ];
    for (const [path, re] of cases) {
      const w = work();
      const e = await failure(decodeInput(tinyParams({ input: { kind: 'image', path, motionScale: 0.8, colorMatch: true } }), w));
      expect(e.code, path).toBe('INVALID_PARAMS');
      expect(e.message, path).toMatch(re);
      expect(existsSync(join(w, 'image.png')), path).toBe(false);
    }
  });
});

describe('video inputs', () => {
  // Frame k of the source shows red = 8k (green 255 − 8k): which source frame became which clip frame is readable.
  const source = (png: string): number => Math.round(decodePng(readFileSync(png)).rgb[0] / 8);
  beforeAll(() => {
    // 32 frames at 16 fps; the first second keeps every 4th frame: 4 fps then 16 fps, timestamps kept (VFR).
    ff('-f', 'lavfi', '-i', "color=size=34x18:rate=16:duration=2,format=rgb24,geq=r='N*8':g='255-N*8':b=100,select='gte(n\\,16)+not(mod(n\\,4))'", '-fps_mode', 'vfr', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', join(dir, 'vfr.mkv'));
    ff('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', join(dir, 'sound.m4a'));
    ff('-f', 'lavfi', '-i', 'testsrc=size=35x19:rate=5', '-t', '0.6', '-pix_fmt', 'yuv444p', join(dir, 'short-odd.mkv'));
  });

  it('variable frame rate: each clip frame n is the last source frame whose time rounds to slot ≤ n (ffmpeg fps filter); order kept', async () => {
    const times = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', join(dir, 'vfr.mkv')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    // The file really is VFR: 0.25 s gaps, then 1/16 s.
    expect(times.slice(0, 6)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.063]);
    const ids = [0, 4, 8, 12, ...Array.from({ length: 16 }, (_, i) => 16 + i)];
    for (const fps of [8, 6, 5]) {
      const frames = 2 * fps;
      const paths = await decodeInput(tinyParams({ input: { kind: 'video', path: join(dir, 'vfr.mkv'), strength: 0.5 }, width: 32, height: 16, frames, fps }), work());
      const slot = (t: number): number => Math.sign(t * fps) * Math.round(Math.abs(t * fps)); // rounding "near": halves away from zero
      const expected = Array.from({ length: frames }, (_, k) => ids[times.map(slot).filter((s) => s <= k).length - 1]);
      expect(paths.map(source), `fps ${fps}`).toEqual(expected);
      for (const p of paths) expect(readPngSize(p)).toEqual([32, 16]);
    }
  });

  it('odd-sized video: scaled to cover and centre-cropped to the clip size; fewer frames than the clip is a clear error', async () => {
    const ok = await decodeInput(tinyParams({ input: { kind: 'video', path: join(dir, 'short-odd.mkv'), strength: 0.5 }, width: 24, height: 40, frames: 3, fps: 5 }), work());
    expect(ok.map(readPngSize)).toEqual([[24, 40], [24, 40], [24, 40]]);
    const w = work();
    const e = await failure(decodeInput(tinyParams({ input: { kind: 'video', path: join(dir, 'short-odd.mkv'), strength: 0.5 }, frames: 8, fps: 5 }), w));
    expect(e.message).toMatch(/gives 3 frame\(s\) at 5 fps; the clip needs 8\. Lower the frame count or fps, or use a longer video\./);
  });

  it('no video stream: a typed error saying so', async () => {
    const e = await failure(decodeInput(tinyParams({ input: { kind: 'video', path: join(dir, 'sound.m4a'), strength: 0.5 } }), work()));
    expect([e.code, e.message]).toEqual(['INVALID_PARAMS', `${join(dir, 'sound.m4a')} has no video stream. Use a clip with a picture (MP4, WebM, MOV, GIF) or a folder of frames.`]);
  });
});

function readPngSize(p: string): [number, number] {
  const d = decodePng(readFileSync(p));
  return [d.width, d.height];
}
