import { textToVideo } from '../../src/main/engine/pipelines/text-to-video';
import { latentsToPreviewRGB } from '../../src/main/engine/preview/latent-rgb';
import { ClipTokenizer } from '../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS } from '../../src/shared/domain/generation';
import { vaeDecoderMacs } from '../macs';
import type { UNetShape } from '../model-set';
import { GiB, openPeakWindow, rssSplit } from '../peak-rss';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { callMacs, describe, FULL_SIZE_DISK, requireFreeDisk } from './full-size-common';

/**
 * `pipeline`: a short generation at full SD1.5 size (random weights) at a CPU-sized resolution, through the
 * real text-to-video pipeline (tokenizer, CLIP, LCM sampling, VAE decode), sessions loaded beforehand.
 * Default (cheaper): 256×256 × 8 frames × 2 steps, guidance 1. --full: 256×256 × 16 frames × 4 steps.
 * Targets: time outside onnxruntime ≤ 3 % of the total; first preview within one UNet call of the start.
 */
export const pipelineSuite: Suite = async (ctx) => {
  const r = new Recorder('pipeline', ctx.log);
  const runs = runsOr(ctx, 1);
  const frames = ctx.full ? 16 : 8;
  const steps = ctx.full ? 4 : 2;
  const req = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff at sunset, waves crashing', negativePrompt: '', seed: 3, steps, guidance: 1, frames, width: 256, height: 256 };
  const shape: UNetShape = { batch: 1, frames, latentHeight: 32, latentWidth: 32, tokens: 77 };
  const label = `256×256 × ${frames} frames × ${steps} steps, guidance 1`;
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = ctx.fullSize();
  const tokenizer = ClipTokenizer.load();
  const tp = performance.now();
  await models.prepare(shape);
  r.fig('compile (if needed) + load CLIP, UNet and VAE sessions', 's', secs(performance.now() - tp), 'not part of the generation times below');

  const total: number[] = [];
  const outside: number[] = [];
  const preview: number[] = [];
  const previewRatio: number[] = [];
  const unet: number[] = [];
  const decode: number[] = [];
  let peak = 0;
  let split = '';
  for (let i = 0; i < runs; i++) {
    models.ortMs = 0;
    const callsBefore = models.unetCalls.length;
    let firstPreviewMs: number | undefined;
    const w = openPeakWindow();
    const t0 = performance.now();
    const res = await textToVideo(models, { ...req, seed: req.seed + i }, {
      tokenizer,
      onStep: (e) => {
        if (firstPreviewMs !== undefined) return;
        latentsToPreviewRGB(e.denoised, e.latentShape); // what the UI shows: x0 → RGB, per frame
        firstPreviewMs = performance.now() - t0;
      },
    });
    const ms = performance.now() - t0;
    const pw = w.stop();
    peak = Math.max(peak, pw.peak);
    split = rssSplit(pw);
    total.push(secs(ms));
    outside.push((100 * (ms - models.ortMs)) / ms);
    const firstCall = models.unetCalls[callsBefore].ms;
    preview.push(secs(firstPreviewMs ?? NaN));
    previewRatio.push((firstPreviewMs ?? NaN) / firstCall);
    unet.push(secs(res.timings.unetMs / steps));
    decode.push(secs(res.timings.decodeMs));
  }
  const genMacs = steps * callMacs(models, shape) + frames * vaeDecoderMacs(models.source.configs.vae, shape);
  const mm = await ctx.matmulRate();
  r.fig(`generation ${label}`, 's', total, `${describe(shape)}; ${(genMacs / 1e12).toFixed(1)} TMAC analytic (UNet + VAE decoder)`);
  r.fig('UNet call (mean per step)', 's', unet);
  r.fig(`VAE decode, ${frames} frames`, 's', decode);
  r.fig('whole-generation rate', 'GMAC/s', total.map((t) => genMacs / t / 1e9), `MatMul rate median ${mm.median.toFixed(1)} GMAC/s`);
  r.fig('time outside onnxruntime', '%', outside, 'total minus time inside session.run (tensor wrapping included in "inside")');
  r.fig('first preview after start', 's', preview, 'prompt encoding + first UNet call + LCM step + latent→RGB preview');
  r.fig('peak RSS during generation', 'GiB', peak / GiB, split);
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  r.target('pipeline overhead outside onnxruntime', '≤ 3 % of total', 3, '<=', '%', med(outside));
  r.target(
    'first preview within one UNet call of the start',
    '≤ 1.1 × one UNet call',
    1.1,
    '<=',
    '× UNet call',
    med(previewRatio),
    'first preview time ÷ first UNet call: everything before the first preview except that call (prompt encoding, noise, scheduler, preview) must cost ≤ 10 % of a call',
  );
  r.note(ctx.full ? 'full variant (--full)' : `cheaper default variant (${label}); --full runs 256×256 × 16 frames × 4 steps`);
  if (runs === 1) r.note('one run (multi-minute); --runs N for more');
  await models.closeUNet(shape);
  return r.result();
};
