/**
 * Every format end to end with the real ffmpeg: the file's stream (ffprobe: codec, frames, rate, size,
 * duration), its pixels decoded back against the source frames, and its embedded parameters read back.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEmbeddedParams, tagsWithFfmetadata } from '../../../src/main/export/embedded-params';
import { exportClip } from '../../../src/main/export/exporter';
import { locateFfmpeg, type FfmpegTools } from '../../../src/main/export/ffmpeg-locate';
import { decodePng } from '../../../src/main/formats/png';
import type { ExportFormat, ExportProgress } from '../../../src/shared/domain/export';
import { blockMeanAbsError, decodeFrames, findTool, meanAbsError, probe, TEST_PARAMS, writeFrames } from './helpers';

const haveTools = Boolean(findTool('ffmpeg') && findTool('ffprobe'));
const root = mkdtempSync(join(tmpdir(), 'export-formats-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const W = 64;
const H = 48;
const N = 10;
const FPS = 8;

/**
 * Per-format expectations: codec name, the per-pixel mean absolute error (0–255) the codec may add, and the
 * same after 4×4 block averaging (what the eye sees; dithering moves error into high frequencies).
 * Measured on these frames: H.264 CRF 18 ≈ 2.0–3.1, VP9 CRF 28 ≈ 2.3–3.9, GIF (one 256-colour palette for
 * ten frames of 2-D gradients, sierra2_4a) ≈ 5.5–8.6 per pixel, 1.2–3.8 in blocks.
 */
const EXPECT: Record<Exclude<ExportFormat, 'png'>, { codec: string; maxMae: number; maxBlockMae: number }> = {
  mp4: { codec: 'h264', maxMae: 4.5, maxBlockMae: 3 },
  webm: { codec: 'vp9', maxMae: 5.5, maxBlockMae: 3.5 },
  gif: { codec: 'gif', maxMae: 11, maxBlockMae: 5 },
};

describe.skipIf(!haveTools)('export formats (real ffmpeg)', () => {
  let tools: FfmpegTools;
  let frames: Uint8Array[];
  const dir = join(root, 'frames');

  beforeAll(() => {
    tools = locateFfmpeg();
    frames = writeFrames(dir, N, W, H, TEST_PARAMS);
  });

  for (const format of ['mp4', 'webm', 'gif'] as const) {
    it(`${format}: stream, pixels and parameters`, async () => {
      const out = join(root, `clip.${format}`);
      const events: ExportProgress[] = [];
      const r = await exportClip({ kind: 'frames', dir, fps: FPS }, { format }, { out, tools, onProgress: (p) => events.push(p) });
      expect(r).toMatchObject({ path: out, frames: N, width: W, height: H, fps: FPS, durationMs: 1250 });

      const info = probe(tools.ffprobe!, out);
      expect(info.codec).toBe(EXPECT[format].codec);
      expect([info.width, info.height, info.frames]).toEqual([W, H, N]);
      if (format !== 'gif') expect(info.pixFmt).toBe('yuv420p');
      // GIF stores delays in 1/100 s: 8 fps becomes 12–13 cs per frame.
      expect(info.fps).toBeCloseTo(FPS, format === 'gif' ? 0 : 6);
      expect(Math.abs(info.durationS - N / FPS)).toBeLessThan(format === 'gif' ? 0.05 : 0.02);

      const decoded = decodeFrames(tools.ffmpeg, out, W, H);
      expect(decoded).toHaveLength(N);
      for (let i = 0; i < N; i++) {
        const own = meanAbsError(decoded[i], W, frames[i], W, W, H);
        const block = blockMeanAbsError(decoded[i], frames[i], W, H, 4);
        if (process.env.EXPORT_TEST_VERBOSE) console.log(format, i, own.toFixed(2), block.toFixed(2));
        expect(own, `frame ${i}`).toBeLessThan(EXPECT[format].maxMae);
        expect(block, `frame ${i} (4×4 blocks)`).toBeLessThan(EXPECT[format].maxBlockMae);
        // And in the right order: each decoded frame is nearer its own source than its neighbours'.
        for (const j of [i - 1, i + 1]) if (j >= 0 && j < N) expect(own).toBeLessThan(meanAbsError(decoded[i], W, frames[j], W, W, H));
      }

      // Progress: monotonic fractions ending in one `done` event at 1.
      expect(events.length).toBeGreaterThan(0);
      for (let i = 1; i < events.length; i++) expect(events[i].fraction).toBeGreaterThanOrEqual(events[i - 1].fraction);
      expect(events.at(-1)).toMatchObject({ done: true, fraction: 1, frame: N, totalFrames: N });

      const back = await readEmbeddedParams(out, tools);
      expect(back.source).toBe('json');
      expect(back.params).toEqual(TEST_PARAMS);
      expect(back.text).toContain('Negative prompt: blurry, low quality');
      expect(back.text).toContain(`Seed: ${TEST_PARAMS.seed}, Size: 64x48`);
      // Nothing but the file itself in the destination folder (no temporaries left behind).
      expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
    });
  }

  it('png: a lossless sequence with parameters in every frame', async () => {
    const out = join(root, 'sequence');
    const r = await exportClip({ kind: 'frames', dir, fps: FPS }, { format: 'png' }, { out, tools });
    expect(r).toMatchObject({ frames: N, width: W, height: H });
    const names = readdirSync(out).sort();
    expect(names).toEqual(Array.from({ length: N }, (_, i) => `frame_${String(i).padStart(4, '0')}.png`));
    for (let i = 0; i < N; i++) {
      const d = decodePng(readFileSync(join(out, names[i])));
      expect(Buffer.from(d.rgb).equals(Buffer.from(frames[i])), `frame ${i}`).toBe(true);
      expect(JSON.parse(d.text.animatelcm)).toEqual(TEST_PARAMS);
      expect(d.text.parameters.split('\n')[0]).toBe(TEST_PARAMS.prompt);
    }
    expect((await readEmbeddedParams(join(out, names[3]))).params).toEqual(TEST_PARAMS);
    expect((await readEmbeddedParams(out)).params).toEqual(TEST_PARAMS);
  });

  it('reads MP4/WebM tags without ffprobe too (ffmpeg -f ffmetadata)', async () => {
    const out = join(root, 'noprobe.webm');
    await exportClip({ kind: 'frames', dir, fps: FPS }, { format: 'webm', quality: 'low' }, { out, tools });
    const tags = await tagsWithFfmetadata(tools.ffmpeg, out);
    expect(JSON.parse(tags.DESCRIPTION)).toEqual(TEST_PARAMS);
    const back = await readEmbeddedParams(out, { ffmpeg: tools.ffmpeg, source: 'PATH' });
    expect(back.params).toEqual(TEST_PARAMS);
    expect(back.text).toBe(tags.COMMENT);
  });

  it('odd sizes: MP4 pads to even by repeating the edge, WebM and PNG keep the size', async () => {
    const oddDir = join(root, 'odd');
    const odd = writeFrames(oddDir, 4, 63, 47);
    const mp4 = join(root, 'odd.mp4');
    const r = await exportClip({ kind: 'frames', dir: oddDir, fps: FPS }, { format: 'mp4', quality: 'max' }, { out: mp4, tools });
    expect([r.width, r.height]).toEqual([64, 48]);
    const info = probe(tools.ffprobe!, mp4);
    expect([info.width, info.height, info.frames]).toEqual([64, 48, 4]);
    const dec = decodeFrames(tools.ffmpeg, mp4, 64, 48);
    for (let i = 0; i < 4; i++) {
      expect(meanAbsError(dec[i], 64, odd[i], 63, 63, 47)).toBeLessThan(4);
      // The added right column repeats the last source column (not black).
      let colErr = 0;
      for (let y = 0; y < 47; y++) for (let c = 0; c < 3; c++) colErr += Math.abs(dec[i][(y * 64 + 63) * 3 + c] - odd[i][(y * 63 + 62) * 3 + c]);
      expect(colErr / (47 * 3)).toBeLessThan(8);
    }
    const webm = join(root, 'odd.webm');
    await exportClip({ kind: 'frames', dir: oddDir, fps: FPS }, { format: 'webm' }, { out: webm, tools });
    expect([probe(tools.ffprobe!, webm).width, probe(tools.ffprobe!, webm).height]).toEqual([63, 47]);
    const png = join(root, 'odd-png');
    await exportClip({ kind: 'frames', dir: oddDir, fps: FPS }, { format: 'png' }, { out: png, tools });
    const first = decodePng(readFileSync(join(png, 'frame_0000.png')));
    expect([first.width, first.height]).toEqual([63, 47]);
    expect(Buffer.from(first.rgb).equals(Buffer.from(odd[0]))).toBe(true);
  });

  it('scales with Lanczos, keeping the aspect when one side is 0', async () => {
    const out = join(root, 'scaled.mp4');
    const r = await exportClip({ kind: 'frames', dir, fps: FPS }, { format: 'mp4', scale: { width: 128, height: 0 } }, { out, tools });
    expect([r.width, r.height]).toEqual([128, 96]);
    const info = probe(tools.ffprobe!, out);
    expect([info.width, info.height, info.frames]).toEqual([128, 96, N]);
    // Downscaled back to the source size, it still matches the source.
    const small = decodeFrames(tools.ffmpeg, out, 128, 96);
    expect(small).toHaveLength(N);
    let err = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) err += Math.abs(small[5][((2 * y) * 128 + 2 * x) * 3 + c] - frames[5][(y * W + x) * 3 + c]);
    expect(err / (W * H * 3)).toBeLessThan(8);
  });
});
