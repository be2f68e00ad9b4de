/**
 * SHA-256 of the weight files a generation uses, for its history record. Hashing is done by the engine worker
 * (a multi-gigabyte checkpoint takes seconds: not on main's event loop); this cache remembers each answer by
 * path + mtime + size, so a file is hashed once per change, not once per generation.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { GenerationParams } from '../../shared/domain/generation';
import type { GenerationHashes } from '../../shared/domain/history';
import { HASH_FILES_JOB, type FileHash, type HashFilesJobResult } from '../engine/jobs/job-types';
import type { EngineHost } from './engine-host';

/** Runs one hash job in the worker; returns its answers. `jobId` lets the caller cancel it. */
export type HashRunner = (paths: string[], jobId: string) => Promise<FileHash[]>;

export function engineHashRunner(engine: EngineHost): HashRunner {
  return async (paths, jobId) => (await engine.runJob<HashFilesJobResult>(HASH_FILES_JOB, jobId, { paths }).result).files;
}

/** The files of a generation in GenerationHashes order (null where the built-in starter model is used). */
export function generationFiles(params: GenerationParams): { model: string | null; motion: string | null; lcmLora: string | null; loras: string[] } {
  return {
    model: params.model ? resolve(params.model) : null,
    motion: params.motion ? resolve(params.motion) : null,
    lcmLora: params.lcmLora ? resolve(params.lcmLora.path) : null,
    loras: params.loras.map((l) => resolve(l.path)),
  };
}

export class FileHashCache {
  private readonly known = new Map<string, FileHash>();

  constructor(private readonly run: HashRunner) {}

  /** The cached hash if the file is unchanged since it was hashed, else undefined. Never hashes. */
  async cached(path: string): Promise<string | undefined> {
    const hit = this.known.get(path);
    if (!hit) return undefined;
    const info = await stat(path).catch(() => undefined);
    return info && info.size === hit.size && info.mtimeMs === hit.mtimeMs ? hit.sha256 : undefined;
  }

  /** Hashes of every file in `paths` (in the worker for those not cached). */
  async hashAll(paths: string[], jobId: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const missing: string[] = [];
    for (const p of new Set(paths)) {
      const h = await this.cached(p);
      if (h) out.set(p, h);
      else missing.push(p);
    }
    if (missing.length > 0) {
      for (const f of await this.run(missing, jobId)) {
        this.known.set(f.path, f);
        out.set(f.path, f.sha256);
      }
    }
    return out;
  }

  /** GenerationHashes for a generation: from the cache only (`hash: false`) or hashing what is missing. */
  async forParams(params: GenerationParams, opts: { hash: false } | { hash: true; jobId: string }): Promise<GenerationHashes> {
    const files = generationFiles(params);
    const all = [files.model, files.motion, files.lcmLora, ...files.loras].filter((p): p is string => p !== null);
    const hashes = opts.hash ? await this.hashAll(all, opts.jobId) : new Map<string, string>();
    if (!opts.hash) {
      for (const p of all) {
        const h = await this.cached(p);
        if (h) hashes.set(p, h);
      }
    }
    const of = (p: string | null): string | null => (p === null ? null : (hashes.get(p) ?? null));
    // A hash the caller already knows (the library's, on the LoRA ref) stands when the file was not hashed here.
    return {
      model: of(files.model),
      motion: of(files.motion),
      lcmLora: of(files.lcmLora),
      loras: files.loras.map((p, i) => of(p) ?? params.loras[i].sha256?.toLowerCase() ?? null),
    };
  }
}
