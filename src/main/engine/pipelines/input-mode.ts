import { readFileSync } from 'node:fs';
import { StudioError } from '../../../shared/errors';
import type { GenerationParams } from '../../../shared/domain/generation';
import { decodePng } from '../../formats/png';
import { imageToVideoMode } from './image-to-video';
import type { PipelineMode } from './pipeline-mode';
import { videoToVideoMode } from './video-to-video';

/**
 * The pipeline mode for a generation's `input` (none for text-to-video). The input arrives already decoded by
 * the main process (ffmpeg; services/generation-input.ts) as 8-bit RGB PNG files: the image at its own size, or
 * the video's frames resampled to the clip's frame count and scaled/cropped to its size.
 */
export function inputMode(params: GenerationParams, decodedFrames: readonly string[] | undefined): PipelineMode | undefined {
  const input = params.input;
  if (!input) return undefined;
  if (!decodedFrames || decodedFrames.length === 0) {
    throw new StudioError('INTERNAL', `The ${input.kind} input was not decoded before the generation started.`);
  }
  const read = (p: string) => {
    const png = decodePng(readFileSync(p));
    return { width: png.width, height: png.height, data: png.rgb };
  };
  if (input.kind === 'image') {
    return imageToVideoMode({ image: read(decodedFrames[0]), motionScale: input.motionScale, colorMatch: input.colorMatch, width: params.width, height: params.height });
  }
  const frames = decodedFrames.map(read);
  const wrong = frames.find((f) => f.width !== params.width || f.height !== params.height);
  if (wrong) throw new StudioError('INTERNAL', `A decoded video frame is ${wrong.width}×${wrong.height}; the clip is ${params.width}×${params.height}.`);
  return videoToVideoMode({ frames: frames.map((f) => f.data), width: params.width, height: params.height, strength: input.strength });
}
