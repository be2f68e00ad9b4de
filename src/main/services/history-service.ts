/**
 * Generation history: the queue records each job here (createGeneration → markRunning → markDone/Failed/Cancelled),
 * and the creator browses, re-rolls, re-runs, favourites and deletes. Rows live in store/generations-store; this
 * service adds the file side: outputs must exist before a record may say "done", and deleting removes them.
 */
import { randomInt } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StudioError, serializeError } from '../../shared/errors';
import type { GenerationParams, StageTimings } from '../../shared/domain/generation';
import type {
  DeleteGenerationResult,
  GenerationFilter,
  GenerationMeta,
  GenerationOutputs,
  RanOn,
  GenerationPage,
  GenerationRecord,
} from '../../shared/domain/history';
import { trashSibling } from '../store/atomic-files';
import type { StudioDatabase } from '../store/database';
import { GenerationsStore, type RunningPatch } from '../store/generations-store';
import { isInside } from '../store/layout';

export interface HistoryServiceOptions {
  /** New seeds for re-roll; default: uniform in 0 … 2^32−1 (the range A1111 and ComfyUI users share). */
  newSeed?: () => number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Paths of a record's outputs, parents before children, children of a listed folder dropped. */
function outputPaths(outputs: GenerationOutputs | null, extra: string[]): string[] {
  const paths = [...extra];
  if (outputs) {
    if (outputs.framesDir) paths.push(outputs.framesDir);
    paths.push(...outputs.videos);
    if (outputs.thumbnail && !outputs.thumbnail.startsWith('data:')) paths.push(outputs.thumbnail);
  }
  const unique = [...new Set(paths.map((p) => resolve(p)))].sort((a, b) => a.length - b.length);
  return unique.filter((p, i) => !unique.slice(0, i).some((q) => isInside(q, p)));
}

export class HistoryService {
  private readonly store: GenerationsStore;
  private readonly newSeed: () => number;

  constructor(
    private readonly db: StudioDatabase,
    opts: HistoryServiceOptions = {},
  ) {
    this.store = new GenerationsStore(db);
    this.newSeed = opts.newSeed ?? (() => randomInt(0, 2 ** 32));
  }

  /** Where a generation's files go: <data>/outputs/<id>. Write there through store/atomic-files. */
  outputDirFor(id: number): string {
    return join(this.db.layout.outputs, String(id));
  }

  // --- the generation queue's side ------------------------------------------------------------------------------

  async createGeneration(params: GenerationParams, meta: GenerationMeta): Promise<GenerationRecord> {
    return this.store.insert(params, meta);
  }

  async markRunning(id: number, patch: RunningPatch = {}): Promise<GenerationRecord> {
    return this.store.markRunning(id, patch);
  }

  /**
   * Record a finished run. Every output path must already exist (written to a temp name and renamed), so the
   * history never points at a file that is not complete.
   */
  async markDone(id: number, outputs: GenerationOutputs, timings: StageTimings = {}, ranOn: RanOn | null = null): Promise<GenerationRecord> {
    for (const p of outputPaths(outputs, [])) {
      if (!(await exists(p))) {
        throw new StudioError('FILE_NOT_FOUND', `Generation #${id} cannot be recorded as done: its output ${p} does not exist.`, { id, path: p });
      }
    }
    return this.store.markDone(id, outputs, timings, undefined, ranOn);
  }

  async markFailed(id: number, error: unknown, timings: StageTimings = {}): Promise<GenerationRecord> {
    return this.store.markFailed(id, serializeError(error), timings);
  }

  async markCancelled(id: number, timings: StageTimings = {}): Promise<GenerationRecord> {
    return this.store.markCancelled(id, timings);
  }

  // --- browsing ----------------------------------------------------------------------------------------------------

  async listGenerations(filter: GenerationFilter = {}): Promise<GenerationPage> {
    return this.store.list(filter);
  }

  async getGeneration(id: number): Promise<GenerationRecord> {
    return this.store.require(id);
  }

  /** Same parameters with a new seed: a new queued record (origin 'reroll'); the queue runs it. */
  async reroll(id: number, opts: { seed?: number } = {}): Promise<GenerationRecord> {
    const src = this.store.require(id);
    let seed = opts.seed ?? this.newSeed();
    // A re-roll that lands on the same seed would just repeat the clip.
    for (let i = 0; opts.seed === undefined && seed === src.params.seed && i < 8; i++) seed = this.newSeed();
    if (!Number.isSafeInteger(seed) || seed < 0) throw new StudioError('INVALID_PARAMS', `Seed ${seed} is not a whole number between 0 and 2^53−1.`, { seed });
    return this.store.insert({ ...structuredClone(src.params), seed }, this.derivedMeta(src, 'reroll'));
  }

  /** Exactly the same parameters and seed: a new queued record (origin 'rerun') that should give identical frames. */
  async rerunExact(id: number): Promise<GenerationRecord> {
    const src = this.store.require(id);
    return this.store.insert(structuredClone(src.params), this.derivedMeta(src, 'rerun'));
  }

  /** The parameters, to load into the Generate panel (nothing is queued). */
  async reuseParams(id: number): Promise<GenerationParams> {
    return structuredClone(this.store.require(id).params);
  }

  async setFavourite(id: number, favourite: boolean): Promise<GenerationRecord> {
    return this.store.setFavourite(id, favourite);
  }

  /**
   * Delete a record and its output files, never leaving a row that points at deleted files: the files are first
   * moved aside (a rename; if any fails, all are put back and nothing changes), then the row is deleted, then the
   * moved files are removed (a failure there leaves only unreferenced `.deleting-…` leftovers, swept at next start).
   * Outputs outside the data folder are the creator's: listed in `keptFiles`, never deleted.
   */
  async deleteGeneration(id: number): Promise<DeleteGenerationResult> {
    const rec = this.store.require(id);
    if (rec.status === 'queued' || rec.status === 'running') {
      throw new StudioError('BAD_REQUEST', `Generation #${id} is ${rec.status}; cancel it before deleting it.`, { id, status: rec.status });
    }
    const candidates = outputPaths(rec.outputs, [this.outputDirFor(id)]);
    const ours = candidates.filter((p) => isInside(this.db.layout.root, p));
    const keptFiles = candidates.filter((p) => !isInside(this.db.layout.root, p));

    const moved: { from: string; to: string }[] = [];
    const putBack = async () => {
      for (const m of moved.reverse()) await rename(m.to, m.from).catch(() => undefined);
    };
    try {
      for (const p of ours) {
        if (!(await exists(p))) continue;
        const to = trashSibling(p);
        await rename(p, to);
        moved.push({ from: p, to });
      }
    } catch (e) {
      await putBack();
      throw new StudioError('FILE_UNREADABLE', `Could not delete the files of generation #${id} (${(e as Error).message}); nothing was deleted.`, { id }, { cause: e });
    }

    let removedClips: number;
    try {
      ({ removedClips } = this.store.delete(id));
    } catch (e) {
      await putBack();
      throw e;
    }
    for (const m of moved) await rm(m.to, { recursive: true, force: true }).catch(() => undefined);
    return { id, removedFiles: moved.map((m) => m.from), keptFiles, removedClips };
  }

  private derivedMeta(src: GenerationRecord, origin: 'reroll' | 'rerun'): GenerationMeta {
    return { noise: src.noise, engineVersion: src.engineVersion, hashes: src.hashes, parentId: src.id, origin };
  }
}
