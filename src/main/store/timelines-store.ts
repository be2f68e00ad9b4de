/**
 * Timelines and their clips. Every change runs in one transaction and leaves positions dense (0…n−1), so the
 * order the UI shows is exactly `ORDER BY position`.
 */
import { StudioError } from '../../shared/errors';
import type { GenerationOutputs } from '../../shared/domain/history';
import type { GenerationParams } from '../../shared/domain/generation';
import { CLIP_SPEED_MAX, CLIP_SPEED_MIN, type Timeline, type TimelineClip, type TimelineSummary } from '../../shared/domain/timeline';
import type { StudioDatabase } from './database';
import { nowIso, parseJson } from './json-columns';

interface TimelineRow {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

interface ClipRow {
  id: number;
  timeline_id: number;
  position: number;
  generation_id: number;
  in_frame: number;
  out_frame: number;
  speed: number;
  params_json: string;
  outputs_json: string | null;
}

/** Frame count of a generation: what it wrote if done, else what it was asked for. */
function sourceFrames(outputs: GenerationOutputs | null, params: GenerationParams): number {
  return outputs && outputs.frameCount > 0 ? outputs.frameCount : params.frames;
}

function toClip(r: ClipRow): TimelineClip {
  const params = JSON.parse(r.params_json) as GenerationParams;
  const outputs = parseJson<GenerationOutputs | null>(r.outputs_json, null);
  return {
    id: r.id,
    timelineId: r.timeline_id,
    position: r.position,
    generationId: r.generation_id,
    inFrame: r.in_frame,
    outFrame: r.out_frame,
    speed: r.speed,
    source: { outputs, fps: params.fps, width: params.width, height: params.height, prompt: params.prompt },
  };
}

function badRequest(message: string, details: Record<string, unknown>): StudioError {
  return new StudioError('BAD_REQUEST', message, details);
}

export class TimelinesStore {
  constructor(private readonly db: StudioDatabase) {}

  create(name: string, now: string = nowIso()): Timeline {
    const clean = name.trim();
    if (!clean) throw badRequest('A timeline needs a name.', {});
    const id = this.db.write(() => Number(this.db.stmt('INSERT INTO timelines (name, created_at, updated_at) VALUES (?, ?, ?)').run(clean, now, now).lastInsertRowid));
    return this.require(id);
  }

  list(): TimelineSummary[] {
    const rows = this.db.run(() =>
      this.db
        .stmt(
          `SELECT t.id, t.name, t.created_at, t.updated_at, count(c.id) AS clip_count,
             coalesce(sum((c.out_frame - c.in_frame) / c.speed), 0) AS total_frames
           FROM timelines t LEFT JOIN timeline_clips c ON c.timeline_id = t.id
           GROUP BY t.id ORDER BY t.updated_at DESC, t.id DESC`,
        )
        .all(),
    ) as (TimelineRow & { clip_count: number; total_frames: number })[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      clipCount: r.clip_count,
      totalFrames: r.total_frames,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  get(id: number): Timeline | undefined {
    return this.db.run(() => {
      const t = this.db.stmt('SELECT * FROM timelines WHERE id = ?').get(id) as TimelineRow | undefined;
      if (!t) return undefined;
      const clips = this.db
        .stmt(
          `SELECT c.*, g.params_json, g.outputs_json FROM timeline_clips c JOIN generations g ON g.id = c.generation_id
           WHERE c.timeline_id = ? ORDER BY c.position, c.id`,
        )
        .all(id) as ClipRow[];
      return { id: t.id, name: t.name, clips: clips.map(toClip), createdAt: t.created_at, updatedAt: t.updated_at };
    });
  }

  require(id: number): Timeline {
    const t = this.get(id);
    if (!t) throw new StudioError('NOT_FOUND', `There is no timeline #${id} (it may have been deleted).`, { id });
    return t;
  }

  rename(id: number, name: string, now: string = nowIso()): Timeline {
    const clean = name.trim();
    if (!clean) throw badRequest('A timeline needs a name.', { id });
    this.db.write(() => {
      if (this.db.stmt('UPDATE timelines SET name = ?, updated_at = ? WHERE id = ?').run(clean, now, id).changes === 0) this.require(id);
    });
    return this.require(id);
  }

  delete(id: number): void {
    this.db.write(() => {
      if (this.db.stmt('DELETE FROM timelines WHERE id = ?').run(id).changes === 0) this.require(id);
    });
  }

  /**
   * Append (or insert at `position`) a clip cut from a finished generation. Trim defaults to the whole clip.
   */
  addClip(
    timelineId: number,
    generationId: number,
    opts: { position?: number; inFrame?: number; outFrame?: number; speed?: number } = {},
    now: string = nowIso(),
  ): Timeline {
    this.db.write(() => {
      this.require(timelineId);
      const g = this.db.stmt('SELECT status, params_json, outputs_json FROM generations WHERE id = ?').get(generationId) as
        | { status: string; params_json: string; outputs_json: string | null }
        | undefined;
      if (!g) throw new StudioError('NOT_FOUND', `There is no generation #${generationId} to add to the timeline.`, { generationId });
      if (g.status !== 'done') {
        throw badRequest(`Generation #${generationId} is ${g.status}; only finished clips can go on a timeline.`, { generationId, status: g.status });
      }
      const outputs = parseJson<GenerationOutputs | null>(g.outputs_json, null);
      // A timeline cuts and exports frames; a clip kept only as a video would fail at export, so say it now.
      if (!outputs?.framesDir) {
        throw badRequest(
          `Generation #${generationId} kept no frames, only its video file, so it cannot be cut on a timeline. Re-run it exactly to make the same clip with its frames, then add that one.`,
          { generationId, reason: 'no-frames' },
        );
      }
      const frames = sourceFrames(outputs, JSON.parse(g.params_json) as GenerationParams);
      const inFrame = opts.inFrame ?? 0;
      const outFrame = opts.outFrame ?? frames;
      this.checkTrim(inFrame, outFrame, frames, { generationId });
      const speed = opts.speed ?? 1;
      this.checkSpeed(speed);
      const count = this.clipCount(timelineId);
      const position = Math.max(0, Math.min(count, Math.floor(opts.position ?? count)));
      this.db.stmt('UPDATE timeline_clips SET position = position + 1 WHERE timeline_id = ? AND position >= ?').run(timelineId, position);
      this.db
        .stmt('INSERT INTO timeline_clips (timeline_id, position, generation_id, in_frame, out_frame, speed) VALUES (?, ?, ?, ?, ?, ?)')
        .run(timelineId, position, generationId, inFrame, outFrame, speed);
      this.touch(timelineId, now);
    });
    return this.require(timelineId);
  }

  /** Move a clip to `position` (clamped); the others shift to make room. */
  moveClip(clipId: number, position: number, now: string = nowIso()): Timeline {
    const timelineId = this.db.write(() => {
      const c = this.requireClip(clipId);
      const count = this.clipCount(c.timeline_id);
      const to = Math.max(0, Math.min(count - 1, Math.floor(position)));
      if (to > c.position) {
        this.db.stmt('UPDATE timeline_clips SET position = position - 1 WHERE timeline_id = ? AND position > ? AND position <= ?').run(c.timeline_id, c.position, to);
      } else if (to < c.position) {
        this.db.stmt('UPDATE timeline_clips SET position = position + 1 WHERE timeline_id = ? AND position >= ? AND position < ?').run(c.timeline_id, to, c.position);
      }
      this.db.stmt('UPDATE timeline_clips SET position = ? WHERE id = ?').run(to, clipId);
      this.touch(c.timeline_id, now);
      return c.timeline_id;
    });
    return this.require(timelineId);
  }

  trimClip(clipId: number, inFrame: number, outFrame: number, now: string = nowIso()): Timeline {
    const timelineId = this.db.write(() => {
      const c = this.requireClip(clipId);
      const frames = sourceFrames(parseJson<GenerationOutputs | null>(c.outputs_json, null), JSON.parse(c.params_json) as GenerationParams);
      this.checkTrim(inFrame, outFrame, frames, { clipId });
      this.db.stmt('UPDATE timeline_clips SET in_frame = ?, out_frame = ? WHERE id = ?').run(inFrame, outFrame, clipId);
      this.touch(c.timeline_id, now);
      return c.timeline_id;
    });
    return this.require(timelineId);
  }

  setClipSpeed(clipId: number, speed: number, now: string = nowIso()): Timeline {
    this.checkSpeed(speed);
    const timelineId = this.db.write(() => {
      const c = this.requireClip(clipId);
      this.db.stmt('UPDATE timeline_clips SET speed = ? WHERE id = ?').run(speed, clipId);
      this.touch(c.timeline_id, now);
      return c.timeline_id;
    });
    return this.require(timelineId);
  }

  removeClip(clipId: number, now: string = nowIso()): Timeline {
    const timelineId = this.db.write(() => {
      const c = this.requireClip(clipId);
      this.db.stmt('DELETE FROM timeline_clips WHERE id = ?').run(clipId);
      this.db.stmt('UPDATE timeline_clips SET position = position - 1 WHERE timeline_id = ? AND position > ?').run(c.timeline_id, c.position);
      this.touch(c.timeline_id, now);
      return c.timeline_id;
    });
    return this.require(timelineId);
  }

  /** Insert a copy (same source, trim and speed) right after the original. */
  duplicateClip(clipId: number, now: string = nowIso()): Timeline {
    const timelineId = this.db.write(() => {
      const c = this.requireClip(clipId);
      this.db.stmt('UPDATE timeline_clips SET position = position + 1 WHERE timeline_id = ? AND position > ?').run(c.timeline_id, c.position);
      this.db
        .stmt('INSERT INTO timeline_clips (timeline_id, position, generation_id, in_frame, out_frame, speed) VALUES (?, ?, ?, ?, ?, ?)')
        .run(c.timeline_id, c.position + 1, c.generation_id, c.in_frame, c.out_frame, c.speed);
      this.touch(c.timeline_id, now);
      return c.timeline_id;
    });
    return this.require(timelineId);
  }

  private clipCount(timelineId: number): number {
    return (this.db.stmt('SELECT count(*) AS n FROM timeline_clips WHERE timeline_id = ?').get(timelineId) as { n: number }).n;
  }

  private requireClip(clipId: number): ClipRow {
    const c = this.db
      .stmt('SELECT c.*, g.params_json, g.outputs_json FROM timeline_clips c JOIN generations g ON g.id = c.generation_id WHERE c.id = ?')
      .get(clipId) as ClipRow | undefined;
    if (!c) throw new StudioError('NOT_FOUND', `There is no timeline clip #${clipId} (it may have been removed).`, { clipId });
    return c;
  }

  private touch(timelineId: number, now: string): void {
    this.db.stmt('UPDATE timelines SET updated_at = ? WHERE id = ?').run(now, timelineId);
  }

  private checkTrim(inFrame: number, outFrame: number, frames: number, details: Record<string, unknown>): void {
    if (!Number.isInteger(inFrame) || !Number.isInteger(outFrame) || inFrame < 0 || outFrame > frames || outFrame <= inFrame) {
      throw badRequest(`Trim ${inFrame}…${outFrame} does not fit a ${frames}-frame clip: keep 0 ≤ in < out ≤ ${frames}.`, { ...details, inFrame, outFrame, frames });
    }
  }

  private checkSpeed(speed: number): void {
    if (!Number.isFinite(speed) || speed < CLIP_SPEED_MIN || speed > CLIP_SPEED_MAX) {
      throw badRequest(`Clip speed must be between ${CLIP_SPEED_MIN}× and ${CLIP_SPEED_MAX}×.`, { speed });
    }
  }
}
