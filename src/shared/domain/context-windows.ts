/**
 * FreeNoise long clips (diffusers `AnimateDiffFreeNoiseMixin`, `FreeNoiseTransformerBlock`): the settings a
 * creator picks, and prompt keyframes for prompt travel. The maths lives in src/main/compiler/families/
 * context-windows.ts (windows, weights, fusion) and src/main/engine/freenoise/ (initial noise, prompt travel).
 */

export type ContextWeighting = 'flat' | 'pyramid' | 'delayed_reverse_sawtooth';
export type ContextNoise = 'shuffle_context' | 'repeat_context' | 'random';
/**
 * `studio`: what the clip needs (docs/freenoise.md): the tail window blends over all its frames with the right
 * denominators, `repeat_context` repeats, odd-length sawtooth works, stride must be below the length.
 * `diffusers`: diffusers @58eb52c exactly, its defects included (what `verify` compares against).
 */
export type ContextMode = 'studio' | 'diffusers';

export interface ContextWindowParams {
  /** Frames per window (diffusers `context_length`, default 16 = what the motion modules were trained on). */
  length: number;
  /** Frames between window starts (diffusers `context_stride`, default 4). */
  stride: number;
  weighting: ContextWeighting;
  noise: ContextNoise;
  mode: ContextMode;
}

/** A prompt from `frame` on (prompt travel); the clip's `prompt` is frame 0's. */
export interface PromptKeyframe {
  frame: number;
  prompt: string;
}

export const CONTEXT_WEIGHTINGS: readonly ContextWeighting[] = ['flat', 'pyramid', 'delayed_reverse_sawtooth'];
export const CONTEXT_NOISES: readonly ContextNoise[] = ['shuffle_context', 'repeat_context', 'random'];
export const CONTEXT_MODES: readonly ContextMode[] = ['studio', 'diffusers'];

/** diffusers' `enable_free_noise` defaults, except the weighting: pyramid blends seams where flat averages them. */
export const DEFAULT_CONTEXT_WINDOWS: ContextWindowParams = { length: 16, stride: 4, weighting: 'pyramid', noise: 'shuffle_context', mode: 'studio' };

/** The longest clip the studio makes with context windows (cost and memory grow linearly with frames). */
export const MAX_LONG_CLIP_FRAMES = 256;
