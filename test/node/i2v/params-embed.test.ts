import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import { readEmbeddedParams } from '../../../src/main/export/embedded-params';
import { coerceParams, formatParamsText, parseParamsText } from '../../../src/main/formats/params-text';
import { cli } from '../cli-in-process';

const dir = mkdtempSync(join(tmpdir(), 'i2v-params-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the input in embedded parameters', () => {
  const sha = 'ab'.repeat(32);
  const i2v: GenerationParams = { ...structuredClone(DEFAULT_PARAMS), prompt: 'p', input: { kind: 'image', path: '/d/inputs/x.png', sha256: sha, motionScale: 0.3, colorMatch: false } };

  it('A1111 text names the mode, its control and the input hash; the text still parses; the JSON restores the input exactly', () => {
    const text = formatParamsText(i2v);
    expect(text).toMatch(/Mode: image-to-video, Motion scale: 0.3, Color match: off, Input hash: [0-9a-f]{10}/);
    expect(parseParamsText(text)?.steps).toBe(i2v.steps);
    expect(coerceParams(JSON.parse(JSON.stringify(i2v)))?.input).toEqual(i2v.input);
    const v2v = { ...i2v, input: { kind: 'video' as const, path: '/d/inputs/y', strength: 0.4 } };
    expect(formatParamsText(v2v)).toMatch(/Mode: video-to-video, Denoising strength: 0.4/);
    expect(coerceParams(JSON.parse(JSON.stringify(v2v)))?.input).toEqual(v2v.input);
    expect(coerceParams({ ...i2v, input: { kind: 'sound', path: '/x' } })?.input).toBeUndefined();
  });

  it('an exported MP4 of a video-to-video run carries its input (kind, stored path, hash, strength)', async () => {
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=40x30:rate=8', '-t', '1', join(dir, 'in.mp4')]);
    const out = join(dir, 'out.mp4');
    const r = await cli('generate', '--prompt', 'x', '--video', join(dir, 'in.mp4'), '--strength', '0.75', '--width', '64', '--height', '64', '--frames', '2', '--steps', '2', '--data-dir', join(dir, 'data'), '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const recorded = JSON.parse(r.out).params.input;
    const embedded = await readEmbeddedParams(out);
    expect(embedded.params?.input).toEqual(recorded);
    expect(recorded).toMatchObject({ kind: 'video', strength: 0.75 });
  }, 60_000);
});
