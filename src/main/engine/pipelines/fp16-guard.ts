import type { PipelineModels } from './pipeline-models';

/**
 * fp16 overflow guard. fp16 tops out at 65504; SD1.5's VAE decoder (its mid-block and up-blocks) and, more
 * rarely, the UNet can exceed it, and an overflow shows up as Inf/NaN in the stage's output. Such a stage is
 * re-run on fp32 models (`fp32()`, made on first need) and a note says so; finite outputs pass untouched, so a
 * healthy fp16 run pays one scan of each output.
 */
export function guardFp16(
  models: PipelineModels,
  fp32: () => Promise<PipelineModels>,
  note: (message: string) => void,
  /** Called with the stage's name each time one is re-run in fp32 (the job records which). */
  onRerun: (stage: string) => void = () => undefined,
): PipelineModels {
  let fallback: Promise<PipelineModels> | undefined;
  const rerun = async (stage: string, out: Float32Array, again: (m: PipelineModels) => Promise<Float32Array>): Promise<Float32Array> => {
    const bad = nonFinite(out);
    if (bad === 0) return out;
    note(`The ${stage} overflowed fp16 (${bad} of ${out.length} values not finite); re-ran it in fp32.`);
    onRerun(stage);
    return again(await (fallback ??= fp32()));
  };
  return {
    ...models,
    encodeText: async (ids, clipSkip) => rerun('text encoder', await models.encodeText(ids, clipSkip), (m) => m.encodeText(ids, clipSkip)),
    unet: async (sample, t, context, shape) => rerun('UNet', await models.unet(sample, t, context, shape), (m) => m.unet(sample, t, context, shape)),
    decode: async (latents, h, w) => rerun('VAE decoder', await models.decode(latents, h, w), (m) => m.decode(latents, h, w)),
  };
}

export function nonFinite(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}
