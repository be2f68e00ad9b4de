import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../../src/main/formats/png';
import { cli } from '../cli-in-process';

/**
 * `generate --image` / `--video` on the starter model with real files made by ffmpeg: odd sizes and aspects,
 * grey, alpha, 16-bit, animated GIF, a frames folder; and the inputs that must fail cleanly (truncated file,
 * no video stream, too few frames) without leaving an output behind.
 */
const dir = mkdtempSync(join(tmpdir(), 'i2v-cli-'));
const data = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ff = (...args: string[]): void => {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
};
const small = ['--width', '64', '--height', '64', '--frames', '3', '--steps', '2', '--seed', '5', '--data-dir', data];

beforeAll(() => {
  ff('-f', 'lavfi', '-i', 'testsrc=size=45x31', '-frames:v', '1', '-pix_fmt', 'gray16be', join(dir, 'grey16.png'));
  ff('-f', 'lavfi', '-i', 'testsrc=size=20x50', '-frames:v', '1', '-pix_fmt', 'rgba', join(dir, 'alpha.png'));
  ff('-f', 'lavfi', '-i', 'testsrc=size=40x30:rate=5', '-frames:v', '4', join(dir, 'anim.gif'));
  ff('-f', 'lavfi', '-i', 'testsrc=size=33x17:rate=7', '-t', '1', '-pix_fmt', 'yuv444p', join(dir, 'odd.mkv'));
  ff('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', join(dir, 'sound.wav'));
  const png = readFileSync(join(dir, 'alpha.png'));
  writeFileSync(join(dir, 'truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  mkdirSync(join(dir, 'frames'));
  for (const [i, size] of [[1, '19x23'], [2, '40x40'], [10, '64x16']] as const) ff('-f', 'lavfi', '-i', `testsrc=size=${size}`, '-frames:v', '1', join(dir, 'frames', `f${i}.png`));
});

const framesOf = (out: string): number[][] => readdirSync(out).filter((n) => n.endsWith('.png')).sort().map((n) => Array.from(decodePng(readFileSync(join(out, n))).rgb));

describe('generate --image / --video', () => {
  it('image inputs of any size/format: 16-bit grey, RGBA, animated GIF (first frame); stored by hash; color match switchable', async () => {
    for (const [file, extra] of [['grey16.png', []], ['alpha.png', ['--motion-scale', '0.3']], ['anim.gif', ['--no-color-match']]] as const) {
      const out = join(dir, `out-${file.replace(".", "_")}`);
      const r = await cli('generate', '--prompt', 'x', '--image', join(dir, file), ...extra, ...small, '--out', out, '--json');
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as { params: { input: { kind: string; path: string; sha256: string; motionScale: number; colorMatch: boolean }; guidance: number; scheduler: { beta_end: number; original_inference_steps: number } } };
      const sha = createHash('sha256').update(readFileSync(join(dir, file))).digest('hex');
      expect(j.params.input).toMatchObject({ kind: 'image', sha256: sha, colorMatch: file !== 'anim.gif', motionScale: file === 'alpha.png' ? 0.3 : 0.8 });
      expect(readFileSync(j.params.input.path)).toEqual(readFileSync(join(dir, file)));
      expect(j.params.input.path.startsWith(join(data, 'inputs'))).toBe(true);
      // AnimateLCM-I2V's own settings unless given.
      expect([j.params.guidance, j.params.scheduler.beta_end, j.params.scheduler.original_inference_steps]).toEqual([1, 0.014, 200]);
      expect(framesOf(out).length).toBe(3);
    }
    // The colour match changes the frames (same seed, same image).
    const a = join(dir, 'cm-on');
    const b = join(dir, 'cm-off');
    expect((await cli('generate', '--prompt', 'x', '--image', join(dir, 'alpha.png'), ...small, '--out', a)).code).toBe(0);
    expect((await cli('generate', '--prompt', 'x', '--image', join(dir, 'alpha.png'), '--no-color-match', ...small, '--out', b)).code).toBe(0);
    expect(framesOf(a)).not.toEqual(framesOf(b));
  }, 120_000);

  it('video inputs: an odd-sized clip resampled to the clip fps and cropped; a frames folder in natural order; strength recorded', async () => {
    const out = join(dir, 'v2v-out');
    const r = await cli('generate', '--prompt', 'x', '--video', join(dir, 'odd.mkv'), '--strength', '0.5', '--fps', '4', ...small, '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).params.input).toMatchObject({ kind: 'video', strength: 0.5 });
    expect(framesOf(out).length).toBe(3);
    const out2 = join(dir, 'v2v-folder');
    const r2 = await cli('generate', '--prompt', 'x', '--video', join(dir, 'frames'), ...small, '--out', out2, '--json');
    expect(r2.code, r2.err).toBe(0);
    const stored = JSON.parse(r2.out).params.input.path as string;
    expect(readdirSync(stored).sort()).toEqual(['f1.png', 'f10.png', 'f2.png']);
  }, 120_000);

  it('bad inputs fail with a message to act on and leave no output: truncated image, no video stream, too few frames, bad flags', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--image', join(dir, 'truncated.png')], /could not be read/],
      [['--video', join(dir, 'sound.wav')], /\.wav has no video stream\. Use a clip with a picture/],
      [['--image', join(dir, 'sound.wav')], /\.wav holds only sound, no picture/],
      [['--image', join(__dirname, '..', '..', 'fixtures', 'inputs', 'truncated.jpg')], /The image [0-9a-f]{64}\.jpg could not be read \(.+\)\. Use a PNG, JPEG or WebP picture/],
      [['--video', join(dir, 'odd.mkv'), '--frames', '40', '--fps', '8'], /gives \d+ frame\(s\) at 8 fps; the clip needs 40/],
      [['--video', join(dir, 'frames'), '--frames', '5'], /3 frames; the clip needs 5/],
      [['--image', join(dir, 'alpha.png'), '--video', join(dir, 'odd.mkv')], /either --image or --video/],
      [['--video', join(dir, 'odd.mkv'), '--strength', '0'], /--strength must be greater than 0/],
      [['--image', join(dir, 'alpha.png'), '--motion-scale', '2'], /--motion-scale must be between 0 and 1.5/],
      [['--image', join(dir, 'missing.png')], /does not exist/],
    ];
    for (const [args, re] of cases) {
      const out = join(dir, 'bad-out');
      const r = await cli('generate', '--prompt', 'x', ...small, ...args, '--out', out);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err).toMatch(re);
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);
});
