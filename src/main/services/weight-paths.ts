/**
 * The weight files a generation names (checkpoint, motion module, AnimateLCM LoRA, LoRAs) pass the compiler's
 * sniffer before the generation is queued or recorded: a path that is not a model is refused at once, with the
 * role and the creator's own path, instead of failing later in the worker with whatever a parser made of it.
 */
import type { GenerationParams } from '../../shared/domain/generation';
import { StudioError, isStudioError } from '../../shared/errors';
import { sniffModelFile } from '../compiler/io/open';
import { existsSync } from 'node:fs';

export interface WeightPath {
  /** How the creator knows this file: "checkpoint", "motion module", "LoRA 2", … */
  role: string;
  path: string;
}

/** The paths a generation would open, in the order the engine opens them (disabled LoRAs are not opened). */
export function weightPaths(params: GenerationParams): WeightPath[] {
  const out: WeightPath[] = [];
  if (params.model) out.push({ role: 'checkpoint', path: params.model });
  if (params.motion) out.push({ role: 'motion module', path: params.motion });
  if (params.lcmLora) out.push({ role: 'AnimateLCM LoRA', path: params.lcmLora.path });
  params.loras.forEach((l, i) => {
    if (l.enabled !== false) out.push({ role: `LoRA ${i + 1}`, path: l.path });
  });
  (params.controlNets ?? []).forEach((u, i) => {
    if (u.enabled !== false) out.push({ role: `ControlNet ${i + 1}`, path: u.model });
  });
  return out;
}

/** Throws the sniffer's typed error, prefixed with the file's role, for the first path that is not a model. */
export function checkWeightPaths(params: GenerationParams): void {
  (params.controlNets ?? []).forEach((u, i) => {
    // The conditioning input is decoded in the worker; a path that is not there is refused before recording.
    if (u.enabled !== false && !existsSync(u.control)) {
      throw new StudioError('FILE_NOT_FOUND', `The ControlNet ${i + 1} conditioning input ${u.control} does not exist.`, { path: u.control, role: `ControlNet ${i + 1} input` });
    }
  });
  for (const { role, path } of weightPaths(params)) {
    try {
      sniffModelFile(path);
    } catch (e) {
      if (!isStudioError(e)) throw e;
      throw new StudioError(e.code, `The ${role}: ${e.message}`, { ...e.details, role }, { cause: e });
    }
  }
}
