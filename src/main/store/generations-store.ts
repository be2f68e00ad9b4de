/**
 * The generations table family (generations, generation_loras, generations_fts). SQL only; file work (checking
 * outputs exist, deleting them) belongs to HistoryService.
 */
import type { SerializedError } from '../../shared/errors';
import { StudioError } from '../../shared/errors';
import type { GenerationParams, JobStatus, StageTimings } from '../../shared/domain/generation';
import type {
  GenerationFilter,
  GenerationHashes,
  GenerationMeta,
  GenerationOrigin,
  GenerationOutputs,
  RanOn,
  GenerationPage,
  GenerationRecord,
} from '../../shared/domain/history';
import type { ControlNetUnit } from '../../shared/domain/controlnet';
import type { StudioDatabase } from './database';
import { nowIso, parseJson } from './json-columns';
import { PROCESS_OWNER } from './process-owner';

/** What a queued run learns when it starts: engine version, file hashes, ControlNet units with their hashes. */
export interface RunningPatch {
  engineVersion?: string;
  hashes?: Partial<GenerationHashes>;
  controlNets?: ControlNetUnit[];
}

interface GenerationRow {
  id: number;
  status: JobStatus;
  params_json: string;
  model_sha256: string | null;
  motion_sha256: string | null;
  lcm_lora_sha256: string | null;
  noise_generator: string;
  noise_version: string;
  engine_version: string;
  origin: GenerationOrigin;
  parent_id: number | null;
  favourite: number;
  timings_json: string;
  error_json: string | null;
  outputs_json: string | null;
  ran_on_json: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
const HASH_PREFIX = /^[0-9a-f]{6,64}$/i;

/**
 * Search words → an FTS5 query over the prompt column: every word must appear, each as a prefix ("cat" finds
 * "cats"). Each word is quoted, so prompt syntax such as `(fox:1.2)` or AND/OR/NOT is never read as FTS syntax.
 */
export function ftsQuery(text: string): string | undefined {
  const words = text
    .split(/\s+/)
    .map((w) => w.replace(/"/g, ''))
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  return words.length === 0 ? undefined : words.map((w) => `prompt : "${w}"*`).join(' AND ');
}

/** A date-only bound ('2026-11-26') covers that whole UTC day. */
function upperBound(to: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(to) ? `${to}T23:59:59.999Z` : to;
}

export class GenerationsStore {
  constructor(private readonly db: StudioDatabase) {}

  insert(params: GenerationParams, meta: GenerationMeta, now: string = nowIso()): GenerationRecord {
    const loraHashes = params.loras.map((l, i) => meta.hashes?.loras?.[i] ?? l.sha256 ?? null);
    const id = this.db.write(() => {
      const info = this.db
        .stmt(
          `INSERT INTO generations (status, params_json, prompt, negative_prompt, seed, model_path, model_sha256, motion_path,
             motion_sha256, lcm_lora_sha256, noise_generator, noise_version, engine_version, origin, parent_id,
             owner_pid, owner_token, created_at)
           VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          JSON.stringify(params),
          params.prompt,
          params.negativePrompt,
          params.seed,
          params.model ?? null,
          meta.hashes?.model ?? null,
          params.motion ?? null,
          meta.hashes?.motion ?? null,
          meta.hashes?.lcmLora ?? null,
          meta.noise.name,
          meta.noise.version,
          meta.engineVersion,
          meta.origin ?? 'new',
          meta.parentId ?? null,
          PROCESS_OWNER.pid,
          PROCESS_OWNER.token,
          now,
        );
      const newId = Number(info.lastInsertRowid);
      const addLora = this.db.stmt('INSERT INTO generation_loras (generation_id, position, path, sha256, weight, enabled) VALUES (?, ?, ?, ?, ?, ?)');
      params.loras.forEach((l, i) => addLora.run(newId, i, l.path, loraHashes[i], l.weight, l.enabled === false ? 0 : 1));
      return newId;
    });
    return this.require(id);
  }

  get(id: number): GenerationRecord | undefined {
    const row = this.db.run(() => this.db.stmt('SELECT * FROM generations WHERE id = ?').get(id)) as GenerationRow | undefined;
    return row ? this.toRecords([row])[0] : undefined;
  }

  require(id: number): GenerationRecord {
    const r = this.get(id);
    if (!r) throw new StudioError('NOT_FOUND', `There is no generation #${id} in the history (it may have been deleted).`, { id });
    return r;
  }

  list(filter: GenerationFilter = {}): GenerationPage {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.text !== undefined) {
      const q = ftsQuery(filter.text);
      if (q) {
        where.push('g.id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH ?)');
        args.push(q);
      }
    }
    if (filter.model) {
      if (HASH_PREFIX.test(filter.model)) {
        where.push("(g.model_sha256 LIKE ? || '%' OR g.model_path = ?)");
        args.push(filter.model.toLowerCase(), filter.model);
      } else {
        where.push('g.model_path = ?');
        args.push(filter.model);
      }
    }
    if (filter.lora) {
      if (HASH_PREFIX.test(filter.lora)) {
        where.push("EXISTS (SELECT 1 FROM generation_loras l WHERE l.generation_id = g.id AND (l.sha256 LIKE ? || '%' OR l.path = ?))");
        args.push(filter.lora.toLowerCase(), filter.lora);
      } else {
        where.push('EXISTS (SELECT 1 FROM generation_loras l WHERE l.generation_id = g.id AND l.path = ?)');
        args.push(filter.lora);
      }
    }
    if (filter.from) {
      where.push('g.created_at >= ?');
      args.push(filter.from);
    }
    if (filter.to) {
      where.push('g.created_at <= ?');
      args.push(upperBound(filter.to));
    }
    if (filter.favourite !== undefined) {
      where.push('g.favourite = ?');
      args.push(filter.favourite ? 1 : 0);
    }
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      if (statuses.length > 0) {
        where.push(`g.status IN (${statuses.map(() => '?').join(', ')})`);
        args.push(...statuses);
      }
    }
    const limit = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(filter.limit ?? DEFAULT_PAGE_SIZE)));
    const offset = Math.max(0, Math.floor(filter.offset ?? 0));
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const dir = filter.order === 'oldest' ? 'ASC' : 'DESC';
    return this.db.run(() => {
      const total = (this.db.sqlite.prepare(`SELECT count(*) AS n FROM generations g ${whereSql}`).get(...args) as { n: number }).n;
      const rows = this.db.sqlite
        .prepare(`SELECT g.* FROM generations g ${whereSql} ORDER BY g.created_at ${dir}, g.id ${dir} LIMIT ? OFFSET ?`)
        .all(...args, limit, offset) as GenerationRow[];
      return { items: this.toRecords(rows), total, limit, offset };
    });
  }

  /** queued → running. Hashes and engine version may be filled in now (the queue resolves files when it starts). */
  markRunning(id: number, patch: RunningPatch = {}, now: string = nowIso()): GenerationRecord {
    this.db.write(() => {
      const current = this.expectStatus(id, ['queued'], 'running');
      // ControlNet units with their file and input hashes (hashed when the job starts) replace the queued ones in
      // params_json, which is what the record shows and exports embed.
      if (patch.controlNets) {
        const params = { ...current.params, controlNets: patch.controlNets };
        this.db.stmt('UPDATE generations SET params_json = ? WHERE id = ?').run(JSON.stringify(params), id);
      }
      this.db
        .stmt(
          `UPDATE generations SET status = 'running', started_at = ?, owner_pid = ?, owner_token = ?,
             engine_version = coalesce(?, engine_version), model_sha256 = coalesce(?, model_sha256),
             motion_sha256 = coalesce(?, motion_sha256), lcm_lora_sha256 = coalesce(?, lcm_lora_sha256)
           WHERE id = ?`,
        )
        .run(now, PROCESS_OWNER.pid, PROCESS_OWNER.token, patch.engineVersion ?? null, patch.hashes?.model ?? null, patch.hashes?.motion ?? null, patch.hashes?.lcmLora ?? null, id);
      patch.hashes?.loras?.forEach((h, i) => {
        if (h) this.db.stmt('UPDATE generation_loras SET sha256 = ? WHERE generation_id = ? AND position = ?').run(h, id, i);
      });
    });
    return this.require(id);
  }

  /**
   * running → done with its outputs (already complete on disk: the caller checks). Library items used by this run
   * that have no preview yet get this clip's thumbnail, in the same transaction.
   */
  markDone(id: number, outputs: GenerationOutputs, timings: StageTimings, now: string = nowIso(), ranOn: RanOn | null = null): GenerationRecord {
    this.db.write(() => {
      const current = this.expectStatus(id, ['running'], 'done');
      this.db
        .stmt(`UPDATE generations SET status = 'done', outputs_json = ?, timings_json = ?, ran_on_json = ?, finished_at = ?, owner_pid = NULL, owner_token = NULL WHERE id = ?`)
        .run(JSON.stringify(outputs), JSON.stringify({ ...current.timings, ...timings }), ranOn ? JSON.stringify(ranOn) : null, now, id);
      if (outputs.thumbnail) {
        this.db
          .stmt(
            `UPDATE library_items SET preview = ?, preview_source = 'generation', updated_at = ?
             WHERE preview IS NULL AND sha256 IN (
               SELECT model_sha256 FROM generations WHERE id = ? UNION SELECT motion_sha256 FROM generations WHERE id = ?
               UNION SELECT sha256 FROM generation_loras WHERE generation_id = ?)`,
          )
          .run(outputs.thumbnail, now, id, id, id);
      }
    });
    return this.require(id);
  }

  markFailed(id: number, error: SerializedError, timings: StageTimings = {}, now: string = nowIso()): GenerationRecord {
    return this.finish(id, 'failed', error, timings, now);
  }

  markCancelled(id: number, timings: StageTimings = {}, now: string = nowIso()): GenerationRecord {
    return this.finish(id, 'cancelled', null, timings, now);
  }

  setFavourite(id: number, favourite: boolean): GenerationRecord {
    this.db.write(() => {
      const info = this.db.stmt('UPDATE generations SET favourite = ? WHERE id = ?').run(favourite ? 1 : 0, id);
      if (info.changes === 0) this.require(id);
    });
    return this.require(id);
  }

  /** Deletes the row (its LoRA rows and timeline clips cascade). Returns the number of timeline clips removed. */
  delete(id: number): { removedClips: number } {
    return this.db.write(() => {
      this.require(id);
      const clips = (this.db.stmt('SELECT count(*) AS n FROM timeline_clips WHERE generation_id = ?').get(id) as { n: number }).n;
      const timelines = this.db.stmt('SELECT DISTINCT timeline_id AS t FROM timeline_clips WHERE generation_id = ?').all(id) as { t: number }[];
      this.db.stmt('DELETE FROM generations WHERE id = ?').run(id);
      // Close the gaps the cascade left in those timelines' positions.
      const setPosition = this.db.stmt('UPDATE timeline_clips SET position = ? WHERE id = ?');
      for (const { t } of timelines) {
        const ids = this.db.stmt('SELECT id FROM timeline_clips WHERE timeline_id = ? ORDER BY position, id').all(t) as { id: number }[];
        ids.forEach((c, i) => setPosition.run(i, c.id));
      }
      return { removedClips: clips };
    });
  }

  private finish(id: number, status: 'failed' | 'cancelled', error: SerializedError | null, timings: StageTimings, now: string): GenerationRecord {
    this.db.write(() => {
      const current = this.expectStatus(id, ['queued', 'running'], status);
      this.db
        .stmt(`UPDATE generations SET status = ?, error_json = ?, timings_json = ?, finished_at = ?, owner_pid = NULL, owner_token = NULL WHERE id = ?`)
        .run(status, error ? JSON.stringify(error) : null, JSON.stringify({ ...current.timings, ...timings }), now, id);
    });
    return this.require(id);
  }

  private expectStatus(id: number, allowed: JobStatus[], next: JobStatus): GenerationRecord {
    const r = this.require(id);
    if (!allowed.includes(r.status)) {
      throw new StudioError('BAD_REQUEST', `Generation #${id} is ${r.status}; it cannot become ${next} (only from ${allowed.join(' or ')}).`, {
        id,
        status: r.status,
        next,
      });
    }
    return r;
  }

  private toRecords(rows: GenerationRow[]): GenerationRecord[] {
    if (rows.length === 0) return [];
    const loraRows = this.db.sqlite
      .prepare(`SELECT generation_id AS g, position AS p, sha256 AS h FROM generation_loras WHERE generation_id IN (${rows.map(() => '?').join(',')}) ORDER BY generation_id, position`)
      .all(...rows.map((r) => r.id)) as { g: number; p: number; h: string | null }[];
    const loraHashes = new Map<number, (string | null)[]>();
    for (const l of loraRows) {
      const list = loraHashes.get(l.g) ?? [];
      list[l.p] = l.h;
      loraHashes.set(l.g, list);
    }
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      params: JSON.parse(r.params_json) as GenerationParams,
      noise: { name: r.noise_generator, version: r.noise_version },
      hashes: { model: r.model_sha256, motion: r.motion_sha256, lcmLora: r.lcm_lora_sha256, loras: loraHashes.get(r.id) ?? [] },
      engineVersion: r.engine_version,
      origin: r.origin,
      parentId: r.parent_id,
      favourite: r.favourite === 1,
      timings: parseJson<StageTimings>(r.timings_json, {}),
      error: parseJson<SerializedError | null>(r.error_json, null),
      outputs: parseJson<GenerationOutputs | null>(r.outputs_json, null),
      ranOn: parseJson<RanOn | null>(r.ran_on_json, null),
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }
}
