/**
 * Generate's ControlNet preview: a unit's control maps, made in the engine worker by the same code a generation
 * uses ('control-preview' job), written as PNGs under the data folder's control-previews/ (a media root), one
 * folder per key (the input's path, size and mtime, the preprocessor and its thresholds, the clip's size and
 * frame count). A new key means new URLs, so the renderer never shows a stale map from its cache; the oldest
 * folders beyond KEEP are removed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ControlNetUnit, ControlPreview, ControlPreviewClip } from '../../shared/domain/controlnet';
import { StudioError } from '../../shared/errors';
import { CONTROL_PREVIEW_JOB, type ControlPreviewJobParams } from '../engine/jobs/job-types';
import type { EngineHost } from './engine-host';

const KEEP = 32;

export class ControlPreviewService {
  constructor(
    private readonly engine: EngineHost,
    private readonly root: string,
  ) {}

  async preview(unit: ControlNetUnit, clip: ControlPreviewClip, index = 0): Promise<ControlPreview> {
    const control = resolve(unit.control);
    const info = await stat(control).catch(() => undefined);
    if (!info) throw new StudioError('FILE_NOT_FOUND', `ControlNet unit ${index + 1}: the conditioning input ${control} does not exist.`, { path: control, unit: index });
    const key = createHash('sha256')
      .update(JSON.stringify([control, info.size, info.mtimeMs, unit.preprocess, unit.cannyLow ?? 100, unit.cannyHigh ?? 200, clip.frames, clip.width, clip.height]))
      .digest('hex')
      .slice(0, 20);
    const params: ControlPreviewJobParams = { unit: { ...unit, control }, index, clip, outDir: join(this.root, key) };
    const result = await this.engine.runJob<ControlPreview>(CONTROL_PREVIEW_JOB, `control-preview-${randomUUID()}`, params).result;
    await this.prune(key);
    return result;
  }

  /** Keeps the newest KEEP preview folders (and always `current`). */
  private async prune(current: string): Promise<void> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    if (names.length <= KEEP) return;
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.root, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.t - a.t);
    for (const { n } of dated.slice(KEEP)) if (n !== current) await rm(join(this.root, n), { recursive: true, force: true });
  }
}
