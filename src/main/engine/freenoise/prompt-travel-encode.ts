import type { EmbeddingVocab } from '../embeddings/embedding-vocab';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer';
import { padChunks, tokenizeWeighted, type WeightedChunks } from '../tokenizer/prompt-weighting';
import type { PipelineModels } from '../pipelines/pipeline-models';
import type { TextToVideoRequest } from '../pipelines/text-to-video';
import { interpolateKeyframes, keyframeSchedule } from './prompt-travel';

/**
 * Prompt travel's text side: every keyframe prompt goes through the same weighted tokenizer and encoder as a
 * single prompt (so `(word:1.2)` emphasis and LoRA trigger words work inside each keyframe), all keyframes and the
 * negative are padded to one chunk count, and the per-frame embeddings are interpolated (prompt-travel.ts).
 *
 * The negative prompt is one per clip. The studio repeats its embedding on every frame; diffusers mode "lerps" it
 * between two copies of itself (frames 0 and F−1), as diffusers does, which is within 1.2e-6 of the same.
 */

type EncodeChunks = (models: PipelineModels, req: TextToVideoRequest, tokenizer: ClipTokenizer, chunks: WeightedChunks['chunks']) => Promise<Float32Array>;

/** Whether the clip needs per-frame text: keyframes, or diffusers mode (FreeNoise always interpolates there). */
export function travels(req: TextToVideoRequest): boolean {
  return (req.promptKeyframes?.length ?? 0) > 0 || req.contextWindows?.mode === 'diffusers';
}

export async function encodePromptTravel(
  models: PipelineModels,
  req: TextToVideoRequest,
  doCfg: boolean,
  tokenizer: ClipTokenizer,
  encodeChunks: EncodeChunks,
  embeddings?: EmbeddingVocab,
): Promise<{ cond: Float32Array; uncond?: Float32Array; tokens: number }> {
  const F = req.frames;
  const schedule = keyframeSchedule(req.prompt, req.promptKeyframes ?? [], F);
  const tokenized = schedule.prompts.map((p) => tokenizeWeighted(tokenizer, p, { mode: req.weighting, embeddings }));
  const negative = tokenizeWeighted(tokenizer, req.negativePrompt, { mode: req.weighting, embeddings });
  const longest = [...tokenized, ...(doCfg ? [negative] : [])].reduce((a, b) => (b.chunks.length > a.chunks.length ? b : a));
  const padded = tokenized.map((t) => padChunks(t, longest)[0]);
  // The same prompt at two keyframes (the appended last frame) is encoded once: the encoder is deterministic.
  const cache = new Map<string, Float32Array>();
  const keyEmbeds: Float32Array[] = [];
  for (let i = 0; i < padded.length; i++) {
    const key = schedule.prompts[i];
    let e = cache.get(key);
    if (!e) {
      e = await encodeChunks(models, req, tokenizer, padded[i].chunks);
      cache.set(key, e);
    }
    keyEmbeds.push(e);
  }
  const cond = interpolateKeyframes(keyEmbeds, schedule.frames, F);
  const tokens = padded[0].chunks.length * 77;
  if (!doCfg) return { cond, tokens };
  const neg = await encodeChunks(models, req, tokenizer, padChunks(negative, longest)[0].chunks);
  const uncond = req.contextWindows?.mode === 'diffusers' && F > 1 ? interpolateKeyframes([neg, neg], [0, F - 1], F) : repeatRows(neg, F);
  return { cond, uncond, tokens };
}

function repeatRows(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(x.length * n);
  for (let i = 0; i < n; i++) out.set(x, i * x.length);
  return out;
}
