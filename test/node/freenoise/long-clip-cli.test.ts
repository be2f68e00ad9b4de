import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli-in-process';
import { coerceParams } from '../../../src/main/formats/params-text';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase } from '../../../src/main/store/database';
import type { GenerationParams } from '../../../src/shared/domain/generation';

/**
 * `generate` with context windows and prompt travel on the starter model (trained length 32): a 40-frame clip,
 * its parameters in params.json and the history, byte-identical on a second run from those parameters, and the
 * bad inputs of the issue as clear errors.
 */

const LONG = ['--prompt', 'a red ball', '--prompt-at', '20=a blue (cube:1.2)', '--prompt-at', '30=a green cone', '--negative', 'text', '--width', '64', '--height', '64', '--frames', '40', '--steps', '2', '--seed', '11'];
const WINDOWS = ['--context-length', '16', '--context-stride', '8', '--context-weighting', 'pyramid', '--context-noise', 'shuffle_context'];

let root: string;
let data: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'freenoise-cli-'));
  data = join(root, 'data');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pngs = (dir: string): Buffer[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.png'))
    .sort()
    .map((n) => readFileSync(join(dir, n)));

describe('generate: long clips', () => {
  it('makes a 40-frame clip with windows and prompt travel, records every setting, and reproduces it byte for byte', async () => {
    const first = await cli('generate', ...LONG, ...WINDOWS, '--out', join(root, 'a'), '--data-dir', data, '--json');
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/4 context windows of 16 frames/);
    const j = JSON.parse(first.out) as { frames: number; historyId: number; compiled: string[] };
    expect(j.frames).toBe(40);
    expect(j.compiled.some((n) => n.includes('_f40_') && n.includes('_ctx16s8p'))).toBe(true);
    const params = JSON.parse(readFileSync(join(root, 'a', 'params.json'), 'utf8')) as GenerationParams;
    expect(params.contextWindows).toEqual({ length: 16, stride: 8, weighting: 'pyramid', noise: 'shuffle_context', mode: 'studio' });
    expect(params.promptKeyframes).toEqual([
      { frame: 20, prompt: 'a blue (cube:1.2)' },
      { frame: 30, prompt: 'a green cone' },
    ]);
    // Exported params carry them, and read back as the same parameters.
    expect(coerceParams(params)).toEqual(params);
    const db = openDatabase(data);
    try {
      const rec = await new HistoryService(db).getGeneration(j.historyId);
      expect(rec.params.contextWindows).toEqual(params.contextWindows);
      expect(rec.params.promptKeyframes).toEqual(params.promptKeyframes);
    } finally {
      db.close();
    }
    // Re-run exact (through the studio's queue in an engine worker) reproduces the long clip byte for byte.
    const again = await cli('history', 'rerun', String(j.historyId), '--data-dir', data, '--json');
    expect(again.code, again.err).toBe(0);
    const rerun = JSON.parse(again.out) as { status: string; params: GenerationParams; outputs: { framesDir: string } };
    expect(rerun.status).toBe('done');
    expect(rerun.params.promptKeyframes).toEqual(params.promptKeyframes);
    const a = pngs(join(root, 'a'));
    const b = pngs(rerun.outputs.framesDir);
    expect(a).toHaveLength(40);
    a.forEach((buf, i) => expect(buf.equals(b[i]), `frame ${i}`).toBe(true));
    // Prompt travel changes the clip: without the keyframes the frames differ.
    const plain = await cli('generate', ...LONG.filter((x, i, all) => x !== '--prompt-at' && all[i - 1] !== '--prompt-at'), ...WINDOWS, '--out', join(root, 'c'), '--data-dir', data, '--no-history');
    expect(plain.code, plain.err).toBe(0);
    expect(pngs(join(root, 'c'))[39].equals(a[39])).toBe(false);
  });

  it('refuses bad long-clip input with messages a creator can act on', async () => {
    const run = (...extra: string[]) => cli('generate', ...LONG, ...extra, '--out', join(root, 'bad'), '--data-dir', data, '--no-history');
    const noWindows = await run();
    expect(noWindows.code).toBe(1);
    expect(noWindows.err).toMatch(/without context windows \(turn them on for up to 256\)/);
    const stride = await run('--context-length', '16', '--context-stride', '16');
    expect(stride.err).toMatch(/must be below the context length/);
    const beyond = await run(...WINDOWS, '--prompt-at', '45=late');
    expect(beyond.err).toMatch(/keyframe at frame 45 is outside the clip \(frames 0 to 39\)/);
    const dup = await run(...WINDOWS, '--prompt-at', '20=again');
    expect(dup.err).toMatch(/Two prompt keyframes at frame 20/);
    const empty = await run(...WINDOWS, '--prompt-at', '25=');
    expect(empty.err).toMatch(/keyframe at frame 25 is empty/);
    const form = await run(...WINDOWS, '--prompt-at', 'late=x');
    expect(form.err).toMatch(/--prompt-at needs <frame>=<text>/);
    const choice = await run('--context-weighting', 'triangle');
    expect(choice.err).toMatch(/--context-weighting must be one of flat, pyramid, delayed_reverse_sawtooth/);
    const sawtooth = await run('--context-length', '15', '--context-weighting', 'delayed_reverse_sawtooth', '--context-mode', 'diffusers');
    expect(sawtooth.err).toMatch(/odd context length/);
    for (const r of [stride, beyond, dup, empty, form, choice, sawtooth]) expect(r.code).toBe(1);
  });

  it('warns, as diffusers does, when the context length is above the trained length', async () => {
    const r = await cli('generate', ...LONG.slice(0, 4), '--width', '64', '--height', '64', '--frames', '36', '--steps', '1', '--seed', '1', '--context-length', '34', '--context-stride', '2', '--out', join(root, 'warn'), '--data-dir', data, '--no-history');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/context length 34 is above the 32 frames this motion module was trained on/);
  });
});
