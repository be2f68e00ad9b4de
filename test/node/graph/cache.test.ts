import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompileCache, cacheKeyHash, type CacheKey } from '../../../src/main/compiler/cache';
import { GraphBuilder } from '../../../src/main/compiler/graph/builder';
import { emitGraphFile, emitWeights } from '../../../src/main/compiler/graph/emit';
import { linear } from '../../../src/main/compiler/graph/layers';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';

const root = mkdtempSync(join(tmpdir(), 'cache-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const w = new MemoryWeights().set('fc.weight', [3, 2], Float32Array.of(1, 2, 3, 4, 5, 6)).set('fc.bias', [3], Float32Array.of(0.5, 0, -0.5));

function graph(batch: number) {
  const g = new GraphBuilder(`fc_b${batch}`);
  g.output(linear(g, w, 'fc', g.input('x', 'float32', [batch, 2])), 'y', 'float32', [batch, 3]);
  return g.build();
}

const key = (over: Partial<CacheKey> = {}): CacheKey => ({ family: 'fc', config: { a: 1, b: [2, 3] }, weights: ['sha256:abc'], precision: 'float32', shape: { batch: 1 }, ...over });

async function build(dir: string, batches = [1]): Promise<Record<string, unknown>> {
  const graphs = batches.map(graph);
  const index = emitWeights(graphs, { dir });
  graphs.forEach((g) => emitGraphFile(g, index, { dir, modelFile: `${g.name}.onnx` }));
  return { outputs: ['y'] };
}

describe('CompileCache', () => {
  it('hashes keys stably (object key order does not matter) and separates what changes the graph', () => {
    expect(cacheKeyHash(key({ config: { b: [2, 3], a: 1 } }))).toBe(cacheKeyHash(key()));
    for (const other of [key({ precision: 'float16' }), key({ shape: { batch: 2 } }), key({ lora: [{ id: 'x', multiplier: 0.8 }] }), key({ weights: ['sha256:abd'] }), key({ config: { a: 2, b: [2, 3] } })]) {
      expect(cacheKeyHash(other)).not.toBe(cacheKeyHash(key()));
    }
  });

  it('builds once, reuses an unchanged request, and the result runs', async () => {
    const cache = new CompileCache(root);
    let builds = 0;
    const first = await cache.getOrBuild(key(), async (dir) => {
      builds++;
      return build(dir);
    });
    expect(first.reused).toBe(false);
    expect(first.manifest.meta).toEqual({ outputs: ['y'] });
    expect(Object.keys(first.manifest.files).sort()).toEqual(['fc_b1.onnx', 'weights.bin']);
    const again = await cache.getOrBuild(key(), async (dir) => {
      builds++;
      return build(dir);
    });
    expect(again.reused).toBe(true);
    expect(builds).toBe(1);
    const s = await createSession(join(again.dir, 'fc_b1.onnx'));
    const y = (await s.run({ x: f32Tensor(Float32Array.of(1, 1), [1, 2]) })).y.data as Float32Array;
    expect(Array.from(y)).toEqual([3.5, 7, 10.5]);
    await s.dispose();
    // no temporary folders left behind
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('detects a truncated weights file, a modified graph and a missing manifest, and rebuilds', async () => {
    const cache = new CompileCache(root);
    const k = key({ shape: { batch: 1, tag: 'corrupt' } });
    let builds = 0;
    const doBuild = async (dir: string) => {
      builds++;
      return build(dir);
    };
    const e = await cache.getOrBuild(k, doBuild);
    truncateSync(join(e.dir, 'weights.bin'), 10);
    expect(cache.lookup(k)).toBeUndefined();
    const e2 = await cache.getOrBuild(k, doBuild);
    expect(e2.reused).toBe(false);
    const onnx = join(e2.dir, 'fc_b1.onnx');
    const bytes = readFileSync(onnx);
    bytes[bytes.length - 1] ^= 0xff; // same size, different content
    writeFileSync(onnx, bytes);
    expect((await cache.getOrBuild(k, doBuild)).reused).toBe(false);
    rmSync(join(e2.dir, 'manifest.json'));
    expect((await cache.getOrBuild(k, doBuild)).reused).toBe(false);
    expect(builds).toBe(4);
    expect((await cache.getOrBuild(k, doBuild)).reused).toBe(true);
  });

  it('a build that throws leaves nothing behind', async () => {
    const cache = new CompileCache(root);
    const k = key({ shape: { batch: 1, tag: 'fails' } });
    await expect(
      cache.getOrBuild(k, async (dir) => {
        writeFileSync(join(dir, 'half.onnx'), 'x');
        throw new Error('out of memory');
      }),
    ).rejects.toThrow(/out of memory/);
    expect(existsSync(cache.entryDir(k))).toBe(false);
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('adds a graph for another shape next to shared weights, once', async () => {
    const cache = new CompileCache(root);
    const k = key({ shape: undefined, tag: 'shared' } as Partial<CacheKey>);
    const e = await cache.getOrBuild(k, (dir) => build(dir, [1]));
    const index = emitWeights([graph(1)], { dir: join(root, 'scratch') }); // same layout as the entry's weights.bin
    let writes = 0;
    const add = () =>
      cache.getOrAddFile(e, 'fc_b4.onnx', (tmp) => {
        writes++;
        const g = graph(4);
        const dir = join(tmp, '..');
        const p = emitGraphFile(g, index, { dir, modelFile: tmp.slice(dir.length + 1) });
        expect(p).toBe(tmp);
      });
    expect((await add()).reused).toBe(false);
    expect((await add()).reused).toBe(true);
    expect(writes).toBe(1);
    const again = cache.lookup(k)!;
    expect(Object.keys(again.manifest.files)).toContain('fc_b4.onnx');
    const s = await createSession(join(again.dir, 'fc_b4.onnx'));
    const y = (await s.run({ x: f32Tensor(new Float32Array(8).fill(1), [4, 2]) })).y.data as Float32Array;
    expect(Array.from(y.subarray(9))).toEqual([3.5, 7, 10.5]);
    await s.dispose();
  });
});
