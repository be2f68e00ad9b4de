/**
 * The worker-side 'control-preview' job: a ControlNet unit's control maps exactly as a generation would make them
 * (loadControlFrames: decode, pick, Pillow-Lanczos resize, preprocessor), a few frames spread over the clip written
 * as PNGs into `outDir` (main picks a folder the media route serves). Decoding a video and running canny take
 * long enough that they must not run on main's event loop.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PREVIEW_FRAMES, type ControlPreview } from '../../../shared/domain/controlnet';
import { encodePng } from '../../formats/png';
import { loadControlFrames } from '../control/control-input';
import type { JobHandler } from '../worker-protocol';
import type { ControlPreviewJobParams } from './job-types';

/** First, last and evenly between: which clip frames a preview shows. */
export function previewFrameIndices(frames: number, count: number = CONTROL_PREVIEW_FRAMES): number[] {
  const n = Math.min(frames, count);
  if (n <= 1) return [0];
  return [...new Set(Array.from({ length: n }, (_, i) => Math.round((i * (frames - 1)) / (n - 1))))];
}

export const controlPreviewJob: JobHandler<ControlPreviewJobParams, ControlPreview> = async (p) => {
  const { width, height, frames } = p.clip;
  const maps = loadControlFrames(p.unit, p.index, frames, width, height);
  mkdirSync(p.outDir, { recursive: true });
  const out = previewFrameIndices(frames).map((index) => {
    const path = join(p.outDir, `frame-${String(index).padStart(4, '0')}.png`);
    // Written under a temporary name and renamed: a reader never sees half a PNG.
    writeFileSync(`${path}.part`, encodePng(maps.rgb[index], width, height));
    renameSync(`${path}.part`, path);
    return { index, path };
  });
  return { frames: out, notes: maps.notes };
};
