import { basename } from 'node:path';
import type { ControlNetUnit } from '../../../shared/domain/controlnet';
import { StudioError, isStudioError } from '../../../shared/errors';
import { canny } from '../../../shared/control/canny';
import { resizeLanczos } from '../../../shared/control/resize-lanczos';
import { decodeFrames } from '../../media/decode-frames';
import { controlFrameIndices, controlImageFromRgb8 } from './control-frames';

/**
 * A unit's conditioning input → the clip's control frames: decode (image, video or folder), pick one frame per clip
 * frame (control-frames.ts says what happens when the counts differ), resize each to the output size as diffusers'
 * control-image processor does (Pillow Lanczos), then the preprocessor (canny: edges at the output size, white on
 * black, the same map in all three channels), then bytes / 255 → [F, 3, H, W] in [0, 1].
 */

export interface ControlFrames {
  /** [F, 3, H, W] float32 in [0, 1]. */
  tensor: Float32Array;
  /** The maps as the ControlNet sees them, H×W×3 bytes per clip frame (previews, exports). */
  rgb: Uint8Array[];
  notes: string[];
}

export function loadControlFrames(unit: ControlNetUnit, index: number, frames: number, width: number, height: number): ControlFrames {
  const label = `ControlNet unit ${index + 1}`;
  let decoded;
  try {
    decoded = decodeFrames(unit.control, frames);
  } catch (e) {
    if (isStudioError(e)) throw new StudioError(e.code, `${label}: ${e.message}`, { ...e.details, unit: index }, { cause: e });
    throw e;
  }
  const notes: string[] = [];
  const available = decoded.kind === 'image' ? 1 : decoded.truncated ? frames + 1 : decoded.frames.length;
  let pick;
  try {
    pick = controlFrameIndices(available, frames);
  } catch (e) {
    if (isStudioError(e)) throw new StudioError(e.code, `${label} (${basename(unit.control)}): ${e.message}`, { ...e.details, unit: index }, { cause: e });
    throw e;
  }
  if (pick.note) notes.push(`${label}: ${decoded.truncated ? `The control video has more than ${frames} frames; its first ${frames} are used.` : pick.note}`);
  const sized = new Map<number, Uint8Array>();
  const rgb = pick.indices.map((i) => {
    let img = sized.get(i);
    if (!img) {
      img = resizeLanczos(decoded.frames[i], decoded.width, decoded.height, 3, width, height);
      if (unit.preprocess === 'canny') {
        const edges = canny(img, width, height, 3, { low: unit.cannyLow ?? 100, high: unit.cannyHigh ?? 200 });
        img = new Uint8Array(width * height * 3);
        for (let p = 0; p < edges.length; p++) img[3 * p] = img[3 * p + 1] = img[3 * p + 2] = edges[p];
      }
      sized.set(i, img);
    }
    return img;
  });
  if (decoded.width !== width || decoded.height !== height) notes.push(`${label}: the control input (${decoded.width}×${decoded.height}) was resized to ${width}×${height}.`);
  const flat = new Uint8Array(frames * width * height * 3);
  rgb.forEach((img, f) => flat.set(img, f * width * height * 3));
  return { tensor: controlImageFromRgb8(flat, frames, height, width), rgb, notes };
}
