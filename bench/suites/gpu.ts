import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ANIMATELCM_MOTION, CLIP_L_TEXT, SD15_UNET, SD15_VAE } from '../../src/main/compiler/families/configs';
import { slotsFor } from '../../src/main/compiler/graph/lora-slots';
import { DEFAULT_LORA_RANK } from '../../src/main/engine/models/lora-feeds';
import { textToVideo } from '../../src/main/engine/pipelines/text-to-video';
import { engineInfo } from '../../src/main/engine/runtime/info';
import { choosePrecision } from '../../src/main/engine/runtime/precision';
import { starterModel } from '../../src/main/engine/starter/starter-model';
import { ClipTokenizer } from '../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS, type ProviderName } from '../../src/shared/domain/generation';
import { BenchModels, randomModelSource, type ModelSource, type UNetShape } from '../model-set';
import { compileControlVariants, timeControlPairs } from '../controlnet-variants';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { FULL_SIZE_DISK, requireFreeDisk } from './full-size-common';

/**
 * `gpu`: generation speed on the first GPU provider that starts (CUDA, DirectML, then WebGPU on a hardware
 * adapter), precision as the studio picks it for the device. Full size: the real SD1.5 UNet + AnimateLCM motion
 * (random weights), 16 frames × 512², 4 steps, guidance 1 and 1.5: denoise s, VAE decode s (16 frames), first
 * preview s, and the host↔device bytes of one UNet call as the engine feeds it today. Peak device memory is not
 * visible through onnxruntime-node: bench/gpu/device-check.sh samples nvidia-smi beside this suite.
 * When the only GPU provider is a software WebGPU adapter (SwiftShader in CI), it runs the starter model
 * instead (256² × 8 frames × 2 steps) and says so: those figures test the path, not GPU speed.
 * Last, one ControlNet unit per step relative to the UNet + motion call (issue 16), same provider, size and rows.
 */
export const gpuSuite: Suite = async (ctx) => {
  const r = new Recorder('gpu', ctx.log);
  const info = await engineInfo();
  const usable = (p: ProviderName) => info.providers.find((x) => x.name === p && x.usable);
  const hw = (['cuda', 'dml', 'webgpu'] as const).find((p) => usable(p) && !usable(p)?.device?.software);
  const sw = !hw && usable('webgpu') ? 'webgpu' : undefined;
  const provider = hw ?? sw;
  for (const p of info.providers.filter((x) => x.name !== 'cpu' && !x.usable)) r.note(`${p.name}: ${p.reason ?? 'not available'}`);
  if (!provider) {
    r.note('No GPU provider starts on this machine (see the reasons above); nothing measured.');
    return r.result();
  }
  const device = usable(provider)?.device;
  const { precision, why } = choosePrecision(provider, device, 'auto');
  r.note(`Provider ${provider}${device ? ` (${device.vendor} ${device.name})` : ''}; precision: ${why}`);
  const full = !sw;
  if (!full) r.note(`${device?.name ?? 'a software adapter'} is a CPU emulation of a GPU: running the starter model (tiny) to exercise the GPU path; these are not GPU speed figures.`);

  const source: ModelSource = full
    ? randomModelSource('sd15-random', { unet: SD15_UNET, motion: ANIMATELCM_MOTION, vae: SD15_VAE, text: CLIP_L_TEXT })
    : (() => {
        const s = starterModel();
        return { label: 'starter', configs: { unet: s.configs.unet, motion: s.configs.motion, vae: s.configs.vae, text: s.configs.text_encoder }, unet: s.unet, motion: s.motion, vae: s.vae, text: s.text_encoder };
      })();
  if (full) requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = new BenchModels(source, mkdtempSync(join(ctx.scratch, 'gpu-')), { provider, precision });
  const frames = full ? 16 : 8;
  const side = full ? 512 : 256;
  const steps = full ? 4 : 2;
  const tokenizer = ClipTokenizer.load();

  // Host↔device traffic of one UNet call as the engine feeds it today: every input is copied to the device and
  // noise_pred back, including the LoRA slot feeds (lora_down [R, in], lora_up [out, R] per slotted layer).
  const bytes = precision === 'float16' ? 2 : 4;
  const latent = side / 8;
  const slots = slotsFor(source.unet);
  const slotElems = slots.reduce((n, s) => n + DEFAULT_LORA_RANK * (s.inFeatures + s.outFeatures), 0);
  for (const guidance of [1, 1.5]) {
    const batch = guidance > 1 ? 2 : 1;
    const n = batch * frames;
    const io = (2 * n * 4 * latent * latent + n * 77 * source.configs.text.hidden_size + 1) * bytes;
    r.fig(`host↔device bytes per UNet call, guidance ${guidance}`, 'MiB', (io + slotElems * bytes) / 2 ** 20, `${slots.length} slotted layers (lora_down + lora_up each) at rank ${DEFAULT_LORA_RANK}: ${((slotElems * bytes) / 2 ** 20).toFixed(0)} MiB of it; sample, context and noise_pred the rest`);
  }

  for (const guidance of [1, 1.5]) {
    const shape: UNetShape = { batch: guidance > 1 ? 2 : 1, frames, latentHeight: latent, latentWidth: latent, tokens: 77 };
    const tp = performance.now();
    await models.prepare(shape);
    r.fig(`compile + load sessions, guidance ${guidance}`, 's', secs(performance.now() - tp), 'not part of the times below');
    const req = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff at sunset, waves crashing', negativePrompt: '', seed: 5, steps, guidance, frames, width: side, height: side };
    let firstPreview: number | undefined;
    let denoiseEnd = 0;
    const t0 = performance.now();
    await textToVideo(models, req, {
      tokenizer,
      onStep: () => {
        firstPreview ??= performance.now() - t0;
        denoiseEnd = performance.now() - t0; // the last step's end
      },
    });
    const total = performance.now() - t0;
    const label = `${side}² × ${frames} frames × ${steps} steps, guidance ${guidance}`;
    r.fig(`denoise, ${label}`, 's', secs(denoiseEnd), 'prompt encoding + every UNet step');
    r.fig(`VAE decode, ${label}`, 's', secs(total - denoiseEnd), `${frames} frames, after the last step`);
    r.fig(`first preview, ${label}`, 's', secs(firstPreview ?? total));
  }
  await models.dispose();

  // Issue 16: one ControlNet unit per step against the UNet + motion call it feeds (the UNet graph with residual
  // inputs), guidance 1's rows, on the same provider and precision; ControlNet weights random, of the real shapes.
  const ctlShape: UNetShape = { batch: 1, frames, latentHeight: latent, latentWidth: latent, tokens: 77 };
  const pairs = await timeControlPairs(await compileControlVariants(models, ctlShape), provider, runsOr(ctx, 3));
  const size = full ? `full size, ${side}² × ${frames} frames` : `STARTER size on ${device?.name ?? 'a software adapter'} (not a GPU speed figure), ${side}² × ${frames} frames`;
  r.fig(`ControlNet call (${size})`, 's', pairs.controlnetMs.map(secs));
  r.fig(`UNet + motion call with residual inputs (${size})`, 's', pairs.unetMs.map(secs));
  r.fig(`one ControlNet unit ÷ UNet + motion call (${size})`, '%', pairs.unetMs.map((u, i) => (100 * pairs.controlnetMs[i]) / u), 'per pair, back to back, after a warm-up pair');
  return r.result();
};
