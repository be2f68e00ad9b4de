import { clipTextHandler } from './kinds/clip-text';
import { loraHandler } from './kinds/lora';
import { vaeHandler } from './kinds/vae';
import type { KindHandler } from './types';
import { noiseHandler } from './kinds/noise';
import { schedulerLcmHandler } from './kinds/scheduler-lcm';
import { unet2dHandler } from './kinds/unet2d';
import { unetMotionHandler } from './kinds/unet-motion';
import { pipelineHandler } from './kinds/pipeline';
import { textualInversionHandler } from './kinds/textual-inversion';
import { controlnetHandler } from './kinds/controlnet';
import { pipelineControlNetHandler } from './kinds/pipeline-controlnet';
import { randpermHandler } from './kinds/randperm';
import { freenoiseComponentsHandler } from './kinds/freenoise-components';
import { pipelineFreeNoiseHandler } from './kinds/pipeline-freenoise';
import { i2vAdapterHandler } from './kinds/i2v-adapter';
import { pipelineAnimateLcmI2vHandler } from './kinds/pipeline-animatelcm-i2v';
import { pipelineV2vHandler } from './kinds/pipeline-v2v';

/**
 * Every reference-case kind the engine can verify. Add a kind: write `kinds/<kind>.ts` exporting a
 * KindHandler and list it here. A case whose kind is not listed fails `verify` (never skipped silently).
 */
export const KIND_HANDLERS: readonly KindHandler[] = [
  clipTextHandler,
  vaeHandler,
  noiseHandler,
  schedulerLcmHandler,
  unet2dHandler,
  unetMotionHandler,
  loraHandler,
  pipelineHandler,
  textualInversionHandler,
  controlnetHandler,
  pipelineControlNetHandler,
  randpermHandler,
  freenoiseComponentsHandler,
  pipelineFreeNoiseHandler,
  i2vAdapterHandler,
  pipelineAnimateLcmI2vHandler,
  pipelineV2vHandler,
];

export function handlerFor(kind: string): KindHandler | undefined {
  return KIND_HANDLERS.find((h) => h.kind === kind);
}
