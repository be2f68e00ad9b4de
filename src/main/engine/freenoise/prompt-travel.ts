import { StudioError } from '../../../shared/errors';
import type { PromptKeyframe } from '../../../shared/domain/context-windows';

/**
 * Prompt travel (diffusers `_encode_prompt_free_noise` with its default `_lerp`, @58eb52c): prompts keyed by
 * frame, sorted, the last prompt repeated at the last frame, every keyframe prompt encoded, and frames between
 * two keyframes a and b given (1−α)·E_a + α·E_b with α = j/(b−a) (weights rounded to float32, products and sum
 * in float32). A keyframe shared by two segments is written twice and the later segment (α = 0) wins, so
 * keyframes are exact. A single prompt is also "interpolated" between two identical embeddings, as in diffusers.
 */

export interface KeyframeSchedule {
  /** Sorted keyframes, the last one F − 1. */
  frames: number[];
  prompts: string[];
}

/**
 * Keyframes of a clip of `frameCount` frames: `prompt` at frame 0 plus `keyframes`. Refuses keyframes outside
 * the clip, two prompts on one frame and empty keyframe text (an empty prompt is only allowed at frame 0, where
 * it means "no prompt", as before).
 */
export function keyframeSchedule(prompt: string, keyframes: readonly PromptKeyframe[], frameCount: number): KeyframeSchedule {
  const seen = new Map<number, string>([[0, prompt]]);
  for (const k of keyframes) {
    if (!Number.isInteger(k.frame) || k.frame < 0 || k.frame >= frameCount) {
      throw new StudioError('INVALID_PARAMS', `A prompt keyframe at frame ${k.frame} is outside the clip (frames 0 to ${frameCount - 1}).`, { frame: k.frame, frames: frameCount });
    }
    if (k.frame === 0) throw new StudioError('INVALID_PARAMS', 'Frame 0 takes the main prompt; put a keyframe at a later frame.', { frame: 0 });
    if (seen.has(k.frame)) throw new StudioError('INVALID_PARAMS', `Two prompt keyframes at frame ${k.frame}; keep one.`, { frame: k.frame });
    if (k.prompt.trim() === '') throw new StudioError('INVALID_PARAMS', `The prompt keyframe at frame ${k.frame} is empty; write a prompt or delete the keyframe.`, { frame: k.frame });
    seen.set(k.frame, k.prompt);
  }
  const frames = [...seen.keys()].sort((a, b) => a - b);
  const prompts = frames.map((f) => seen.get(f) as string);
  if (frames[frames.length - 1] !== frameCount - 1) {
    frames.push(frameCount - 1);
    prompts.push(prompts[prompts.length - 1]);
  }
  return { frames, prompts };
}

/** Per-frame embeddings [F, per] from one embedding [per] per keyframe (`keyframes` sorted, last = F − 1). */
export function interpolateKeyframes(embeds: readonly Float32Array[], keyframes: readonly number[], frameCount: number): Float32Array {
  if (embeds.length !== keyframes.length) throw new Error(`${embeds.length} embeddings for ${keyframes.length} keyframes`);
  const per = embeds[0].length;
  const out = new Float32Array(frameCount * per);
  const f32 = Math.fround;
  if (keyframes.length === 1) {
    // One keyframe at frame 0 of a one-frame clip: diffusers has no pair to lerp; the frame is the keyframe.
    out.set(embeds[0], 0);
    return out;
  }
  for (let s = 0; s + 1 < keyframes.length; s++) {
    const a = keyframes[s];
    const b = keyframes[s + 1];
    const ea = embeds[s];
    const eb = embeds[s + 1];
    for (let j = 0; j <= b - a; j++) {
      const alpha = j / (b - a);
      const wa = f32(1 - alpha);
      const wb = f32(alpha);
      const row = out.subarray((a + j) * per, (a + j + 1) * per);
      for (let k = 0; k < per; k++) row[k] = f32(f32(wa * ea[k]) + f32(wb * eb[k]));
    }
  }
  return out;
}
