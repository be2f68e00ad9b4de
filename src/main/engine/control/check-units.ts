import { basename } from 'node:path';
import type { ControlNetUnit } from '../../../shared/domain/controlnet';
import { StudioError, isStudioError } from '../../../shared/errors';
import { loadControlFrames } from './control-input';
import { ControlNetModel } from './controlnet-model';

/**
 * Before a generation is recorded or queued: every enabled unit's file is an SD1.5 ControlNet (headers only) and its
 * conditioning input gives the clip its frames (decoded, sized, counted), so a wrong file is refused at once with
 * the unit's number and nothing is recorded.
 */
export async function checkControlNetUnits(units: readonly ControlNetUnit[], cacheRoot: string, clip: { frames: number; width: number; height: number }): Promise<void> {
  for (const [i, u] of units.entries()) {
    if (u.enabled === false) continue;
    const where = `ControlNet unit ${i + 1}`;
    try {
      await new ControlNetModel(u.model, { cacheRoot }).dispose();
      loadControlFrames(u, i, clip.frames, clip.width, clip.height);
    } catch (e) {
      if (!isStudioError(e)) throw e;
      if (e.message.startsWith('ControlNet unit')) throw e;
      const text = e.message.includes(basename(u.model)) || e.message.includes(basename(u.control)) ? e.message : `${basename(u.model)}: ${e.message}`;
      throw new StudioError(e.code, `${where}: ${text}`, { ...e.details, unit: i }, { cause: e });
    }
  }
}
