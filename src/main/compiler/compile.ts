import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../shared/errors';
import { CompileCache, type CacheEntry, type CacheKey } from './cache';
import type { GraphIR } from './graph/builder';
import { emitGraphFile, emitWeights, type WeightIndex, type WeightLocation } from './graph/emit';

/**
 * Graphs → a cache entry: one weights file shared by every graph of the entry, one small .onnx per graph,
 * and `weights.index.json` (where each weight sits) so a graph for a new shape can be added later without
 * touching the weights. Key the entry WITHOUT the shape to share weights across shapes (then add shapes with
 * `addGraph`), or with it for one-shot builds.
 */

export const WEIGHTS_FILE = 'weights.bin';
export const INDEX_FILE = 'weights.index.json';

export interface CompiledModels {
  entry: CacheEntry;
  /** graph name → absolute .onnx path. */
  models: Record<string, string>;
}

/** Builds (or reuses) the entry for `key`; `buildGraphs` runs only on a cache miss. */
export async function compileGraphs(cache: CompileCache, key: CacheKey, buildGraphs: () => GraphIR[]): Promise<CompiledModels> {
  const entry = await cache.getOrBuild(key, async (dir) => {
    const graphs = buildGraphs();
    if (graphs.length === 0) throw new StudioError('COMPILE_FAILED', `Nothing to compile for ${key.family}.`);
    if (new Set(graphs.map((g) => g.name)).size !== graphs.length) throw new StudioError('COMPILE_FAILED', `Graphs of ${key.family} need distinct names.`);
    const index = emitWeights(graphs, { dir, weightsFile: WEIGHTS_FILE });
    writeFileSync(join(dir, INDEX_FILE), JSON.stringify(Object.fromEntries(index)));
    for (const g of graphs) emitGraphFile(g, index, { dir, modelFile: modelFileFor(g.name) });
    return { graphs: graphs.map((g) => g.name), floatType: graphs[0].floatType };
  });
  const names = (entry.manifest.meta.graphs as string[] | undefined) ?? [];
  const models: Record<string, string> = {};
  for (const [file] of Object.entries(entry.manifest.files)) {
    if (file.endsWith('.onnx')) models[file.slice(0, -'.onnx'.length)] = join(entry.dir, file);
  }
  for (const n of names) if (!models[n]) throw new StudioError('CACHE_CORRUPT', `Compiled model ${n} is missing from ${entry.dir}.`);
  return { entry, models };
}

/**
 * Adds `graph` (e.g. the same UNet at another latent size) to an entry made by compileGraphs, reusing its
 * weights file. Every weight the graph needs must already be in the entry. Returns the .onnx path.
 */
export async function addGraph(cache: CompileCache, entry: CacheEntry, graph: GraphIR): Promise<string> {
  const index = readIndex(entry.dir);
  const { path } = await cache.getOrAddFile(entry, modelFileFor(graph.name), (tmp) => {
    emitGraphFile(graph, index, { dir: entry.dir, modelFile: tmp.slice(entry.dir.length + 1) });
  });
  return path;
}

export function readIndex(dir: string): WeightIndex {
  try {
    const raw = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as Record<string, WeightLocation>;
    return new Map(Object.entries(raw));
  } catch (e) {
    throw new StudioError('CACHE_CORRUPT', `The weight index of compiled model ${dir} is unreadable; delete the folder to rebuild it.`, { dir }, { cause: e });
  }
}

function modelFileFor(graphName: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(graphName)) throw new StudioError('COMPILE_FAILED', `Graph name "${graphName}" is not a safe file name.`);
  return `${graphName}.onnx`;
}
