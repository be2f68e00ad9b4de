import { StudioError } from '../../shared/errors';
import type { GenerationParams } from '../../shared/domain/generation';
import { generate, type GenerateProgress, type GenerateResult } from './generate';
import type { JobHandler } from './worker-protocol';

/**
 * The worker's `generate` job: the services pick the output folder (HistoryService.outputDirFor(id)) and the
 * cache folder (`<data dir>/cache`) and record the history; the worker only computes and writes the frames.
 * Progress messages are GenerateProgress (the host adds the job id); previews are base64 RGB frames.
 */
export interface GenerateJobParams {
  params: GenerationParams;
  outDir: string;
  cacheRoot: string;
  intraOpThreads?: number;
  /** The decoded image/video input (PNG files the services prepared), with `params.input`. */
  inputFrames?: string[];
}

export type GenerateJobProgress = GenerateProgress;
export type GenerateJobResult = GenerateResult;

export const generateJob: JobHandler<GenerateJobParams, GenerateJobResult> = async (p, ctx) => {
  if (!p || typeof p !== 'object' || !p.params || typeof p.outDir !== 'string' || typeof p.cacheRoot !== 'string') {
    throw new StudioError('BAD_REQUEST', 'A generate job needs { params, outDir, cacheRoot }.');
  }
  return generate(
    { params: p.params, outDir: p.outDir, cacheRoot: p.cacheRoot, intraOpThreads: p.intraOpThreads, inputFrames: p.inputFrames },
    { signal: ctx.signal, onProgress: (e) => ctx.progress(e) },
  );
};
