/** Parameters as text and as untrusted JSON: A1111 layout both ways, files from other tools, hostile input. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEmbeddedParams } from '../../../src/main/export/embedded-params';
import { insertGifComments, readGifComments } from '../../../src/main/export/gif-comment';
import { coerceParams, formatParamsText, parseParamsText } from '../../../src/main/formats/params-text';
import { encodePng } from '../../../src/main/formats/png';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import { gradientFrame, TEST_PARAMS } from './helpers';

const root = mkdtempSync(join(tmpdir(), 'export-params-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const textFields = (p: GenerationParams) => ({
  prompt: p.prompt,
  negativePrompt: p.negativePrompt,
  steps: p.steps,
  guidance: p.guidance,
  seed: p.seed,
  width: p.width,
  height: p.height,
  frames: p.frames,
  fps: p.fps,
  clipSkip: p.clipSkip,
});

describe('A1111 parameters text', () => {
  it('formats in A1111 layout and parses back every field it carries', () => {
    const p: GenerationParams = { ...TEST_PARAMS, prompt: 'line one\nline two, with: colon', clipSkip: 2, model: '/models/dreamshaper_8.safetensors' };
    const hashed = Object.assign({}, p, { modelHash: 'ef'.repeat(32) });
    const text = formatParamsText(hashed);
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual(['line one', 'line two, with: colon', 'Negative prompt: blurry, low quality']);
    expect(lines[3]).toMatch(/^Steps: 6, Sampler: LCM, CFG scale: 1.5, Seed: 1234567890123, Size: 64x48, Model hash: efefefefef, Model: dreamshaper_8, Clip skip: 2, Frames: 10, FPS: 8, /);
    expect(lines[3]).toContain('Lora hashes: "pixel-art: ababababab"');
    expect(textFields(parseParamsText(text)!)).toEqual(textFields(p));
  });

  it('parses what A1111 itself writes (no frames/fps: defaults stay)', () => {
    const a1111 = 'a castle, <lora:detail:0.6>\nNegative prompt: ugly\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3141592653, Size: 768x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.6.0';
    const p = parseParamsText(a1111)!;
    expect(textFields(p)).toEqual({ ...textFields(DEFAULT_PARAMS), prompt: 'a castle, <lora:detail:0.6>', negativePrompt: 'ugly', steps: 25, guidance: 7, seed: 3141592653, width: 768, height: 512 });
    expect(parseParamsText('just a caption')).toBeUndefined();
  });

  it('reads an A1111 PNG (text only) and a GIF with a foreign comment', async () => {
    const png = join(root, 'a1111.png');
    writeFileSync(png, encodePng(gradientFrame(8, 8, 0), 8, 8, { text: { parameters: 'a fox\nSteps: 20, CFG scale: 6, Seed: 5, Size: 8x8' } }));
    const fromPng = await readEmbeddedParams(png);
    expect(fromPng.source).toBe('text');
    expect(textFields(fromPng.params!)).toMatchObject({ prompt: 'a fox', steps: 20, guidance: 6, seed: 5, width: 8, height: 8 });

    const plain = join(root, 'plain.png');
    writeFileSync(plain, encodePng(gradientFrame(8, 8, 0), 8, 8));
    expect(await readEmbeddedParams(plain)).toEqual({});

    // A minimal valid GIF (1×1, global palette of 2, one image), then a comment from another tool.
    const gif = Buffer.from('47494638396101000100800000000000ffffff2c000000000100010000020144003b', 'hex');
    const commented = insertGifComments(gif, ['Made with SomeTool']);
    expect(readGifComments(commented)).toEqual(['Made with SomeTool']);
    const f = join(root, 'other.gif');
    writeFileSync(f, commented);
    expect(await readEmbeddedParams(f)).toEqual({ text: 'Made with SomeTool' });
  });
});

describe('coerceParams (embedded JSON is untrusted)', () => {
  it('keeps valid parameters exactly', () => {
    expect(coerceParams(JSON.parse(JSON.stringify(TEST_PARAMS)))).toEqual(TEST_PARAMS);
  });

  it('drops wrong types and unknown values instead of trusting a cast', () => {
    const p = coerceParams({ prompt: 'x', seed: '12', steps: null, loras: [{ path: 3 }, { path: '/ok.safetensors', weight: 'big' }], providers: ['cpu', 'evil'], weighting: 'other', __proto__: { polluted: true } })!;
    expect(p.seed).toBe(DEFAULT_PARAMS.seed);
    expect(p.steps).toBe(DEFAULT_PARAMS.steps);
    expect(p.loras).toEqual([{ path: '/ok.safetensors', weight: 1 }]);
    expect(p.providers).toEqual(['cpu']);
    expect(p.weighting).toBe('a1111');
    expect(coerceParams('prompt')).toBeUndefined();
    expect(coerceParams({ seed: 1 })).toBeUndefined();
    expect(coerceParams(null)).toBeUndefined();
  });
});
