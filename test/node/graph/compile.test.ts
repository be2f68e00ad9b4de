import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompileCache, fileIdentity, type CacheKey } from '../../../src/main/compiler/cache';
import { addGraph, compileGraphs } from '../../../src/main/compiler/compile';
import { buildClipTextGraph } from '../../../src/main/compiler/families/clip-text';
import { parseClipTextConfig } from '../../../src/main/compiler/families/configs';
import { readNpy, readNpyF32 } from '../../../src/main/compiler/io/npy';
import { createSession } from '../../../src/main/engine/runtime/session';
import { openCanonical } from '../../../src/main/verify/canonical';
import { compareArrays } from '../../../src/main/verify/compare';

const FIX = join(__dirname, '../../fixtures/reference/clip_text');
const root = mkdtempSync(join(tmpdir(), 'compile-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('compileGraphs / addGraph', () => {
  it('compiles the text encoder once, adds a second batch size on the same weights file, both equal the reference', async () => {
    const cfg = parseClipTextConfig(JSON.parse(readFileSync(join(FIX, 'config.json'), 'utf8')) as Record<string, unknown>);
    const file = join(FIX, 'weights.safetensors');
    const w = openCanonical(file, 'text_encoder');
    const cache = new CompileCache(root);
    const key: CacheKey = { family: 'clip_text', config: cfg, weights: [fileIdentity(file)], precision: 'float32' };
    let builds = 0;
    const build = () => {
      builds++;
      return [buildClipTextGraph(w.weights, cfg, { batch: 1 })];
    };
    const a = await compileGraphs(cache, key, build);
    expect(Object.keys(a.models)).toEqual(['clip_text']);
    const b = await compileGraphs(cache, key, build);
    expect(b.entry.reused).toBe(true);
    expect(builds).toBe(1);

    const g2 = buildClipTextGraph(w.weights, cfg, { batch: 2 });
    g2.name = 'clip_text_b2';
    const weightsBefore = readFileSync(join(a.entry.dir, 'weights.bin'));
    const p2 = await addGraph(cache, b.entry, g2);
    expect(readFileSync(join(a.entry.dir, 'weights.bin')).equals(weightsBefore)).toBe(true);
    const c = await compileGraphs(cache, key, build);
    expect(Object.keys(c.models).sort()).toEqual(['clip_text', 'clip_text_b2']);
    expect(c.models.clip_text_b2).toBe(p2);

    const ids = readNpy(join(FIX, 'input_ids.npy')).data as BigInt64Array;
    const want = readNpyF32(join(FIX, 'last_hidden_state.npy')).data;
    const s2 = await createSession(p2);
    const o2 = await s2.run({ input_ids: { type: 'int64', dims: [2, 77], data: ids } });
    expect(compareArrays('c', 'b2', o2.last_hidden_state.data as Float32Array, want).pass).toBe(true);
    const s1 = await createSession(c.models.clip_text);
    const o1 = await s1.run({ input_ids: { type: 'int64', dims: [1, 77], data: ids.slice(77) } });
    expect(compareArrays('c', 'b1', o1.last_hidden_state.data as Float32Array, want.subarray(77 * 32)).pass).toBe(true);
    await s1.dispose();
    await s2.dispose();
    w.close();
  });
});
