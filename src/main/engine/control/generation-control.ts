import { basename } from 'node:path';
import type { ControlNetUnit } from '../../../shared/domain/controlnet';
import type { ProviderName } from '../../../shared/domain/generation';
import { StudioError } from '../../../shared/errors';
import { loadControlFrames } from './control-input';
import { ControlNetModel } from './controlnet-model';
import type { PipelineControl } from './pipeline-control';

/**
 * A generation's enabled ControlNet units, made ready for the pipeline: each file loaded and checked against the
 * model (the hint block must shrink the control image by the VAE's factor), each input turned into control frames.
 * On any failure everything opened so far is closed before the error goes on.
 */
export interface PreparedControl {
  control: PipelineControl;
  notes: string[];
  /** Per enabled unit: the control maps (H×W×3 bytes per frame), for previews and the record. */
  maps: Uint8Array[][];
  dispose(): Promise<void>;
}

export interface PrepareControlOptions {
  frames: number;
  width: number;
  height: number;
  vaeScaleFactor: number;
  cacheRoot: string;
  providers: ProviderName[];
  precision: 'float32' | 'float16';
  intraOpThreads?: number;
}

export async function prepareControl(units: readonly ControlNetUnit[], o: PrepareControlOptions): Promise<PreparedControl> {
  const nets: ControlNetModel[] = [];
  const dispose = async (): Promise<void> => {
    for (const n of nets.splice(0)) await n.dispose();
  };
  try {
    const notes: string[] = [];
    const maps: Uint8Array[][] = [];
    const runs = units.map((u, i) => {
      if (!(u.start >= 0 && u.end <= 1 && u.start < u.end)) {
        throw new StudioError('INVALID_PARAMS', `ControlNet unit ${i + 1}: the window must satisfy 0 ≤ start < end ≤ 1 (got ${u.start}–${u.end}).`, { unit: i });
      }
      const net = new ControlNetModel(u.model, { cacheRoot: o.cacheRoot, providers: o.providers, precision: o.precision, intraOpThreads: o.intraOpThreads });
      nets.push(net);
      if (net.hintDownscale !== o.vaeScaleFactor) {
        throw new StudioError(
          'MODEL_SHAPE_MISMATCH',
          `ControlNet unit ${i + 1} (${basename(u.model)}) expects images ${net.hintDownscale}× its latents, but this model's VAE works at ${o.vaeScaleFactor}×; use an SD1.5 checkpoint (the starter test model cannot drive a ControlNet).`,
          { unit: i },
        );
      }
      const f = loadControlFrames(u, i, o.frames, o.width, o.height);
      notes.push(...f.notes);
      maps.push(f.rgb);
      return { net, frames: f.tensor, scale: u.scale, start: u.start, end: u.end };
    });
    return { control: { units: runs }, notes, maps, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
