import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ANIMATELCM_MOTION, CLIP_L_TEXT, SD15_UNET, SD15_VAE } from '../../src/main/compiler/families/configs';
import { slotsFor } from '../../src/main/compiler/graph/lora-slots';
import { DEFAULT_LORA_RANK } from '../../src/main/engine/models/lora-feeds';
import { ModelSet } from '../../src/main/engine/models/model-set';
import { starterSource } from '../../src/main/engine/models/model-source';
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
 * preview s, and the host↔device bytes of one UNet call before and after GPU-resident feeds (measured on the
 * starter model at the run wrapper, and computed for the full size). Peak device memory is not
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

  // Host↔device traffic per UNet call, before (every feed copied on every run) and after (LoRA slot feeds and the
  // clip's text context kept on the device, resident-feeds.ts): measured at the run wrapper (what crosses).
  await residentTransfers(r, provider, precision, ctx.scratch);

  // The same at full size, computed from the shapes (no full-size run needed): before = every input copied and
  // noise_pred back, including lora_down [R, in] + lora_up [out, R] per slotted layer; after = the sample and
  // timestep in, noise_pred out (the constants once per clip / stack change).
  const bytes = precision === 'float16' ? 2 : 4;
  const latent = side / 8;
  // The UNet + motion graph takes the motion modules' slots too (MotionLoRAs ride them, lora-feeds.ts).
  const slots = [...slotsFor(source.unet), ...slotsFor(source.motion)];
  const slotElems = slots.reduce((n, s) => n + DEFAULT_LORA_RANK * (s.inFeatures + s.outFeatures), 0);
  for (const guidance of [1, 1.5]) {
    const batch = guidance > 1 ? 2 : 1;
    const n = batch * frames;
    const io = (2 * n * 4 * latent * latent + 1) * bytes;
    const context = n * 77 * source.configs.text.hidden_size * bytes;
    r.fig(`host↔device bytes per UNet call, before (all feeds copied), ${side}² × ${frames} frames, guidance ${guidance}`, 'MiB', (io + context + slotElems * bytes) / 2 ** 20, `computed from the shapes: ${slots.length} slotted layers, UNet and motion modules (lora_down + lora_up each) at rank ${DEFAULT_LORA_RANK}: ${((slotElems * bytes) / 2 ** 20).toFixed(0)} MiB of it; sample, context and noise_pred the rest`);
    r.fig(`host↔device bytes per UNet call, after (resident), ${side}² × ${frames} frames, guidance ${guidance}`, 'MiB', io / 2 ** 20, 'computed from the shapes: sample + timestep in, noise_pred out; the slot feeds once per stack change, the context once per clip');
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

/**
 * One small generation of the starter model (with an empty LoRA stack: the slot feeds are zeros, as many bytes as
 * any stack) on `provider`, feeds copied every run and then resident, counting what crosses at the run wrapper
 * (EngineSession.transfers). Per UNet call = the clip's UNet traffic (uploads included) / its UNet calls.
 */
export async function residentTransfers(r: Recorder, provider: ProviderName, precision: 'float32' | 'float16', scratch: string): Promise<void> {
  const steps = 4;
  const req = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff at sunset', negativePrompt: '', seed: 5, steps, frames: 4, width: 64, height: 64 };
  const cacheRoot = mkdtempSync(join(scratch, 'gpu-resident-'));
  const tokenizer = ClipTokenizer.load();
  for (const guidance of [1, 1.5]) {
    const perCall: Record<'before' | 'after', number> = { before: 0, after: 0 };
    for (const mode of ['before', 'after'] as const) {
      const set = new ModelSet(starterSource(), { cacheRoot, providers: [provider], precision, residentFeeds: mode === 'after' });
      try {
        await textToVideo(set.models(), { ...req, guidance }, { tokenizer });
        const t = set.transfers('unet');
        perCall[mode] = (t.hostToDevice + t.deviceToHost) / t.runs;
      } finally {
        await set.dispose();
      }
    }
    const label = `starter model, 64² × 4 frames × ${steps} steps, guidance ${guidance}`;
    r.fig(`measured host↔device bytes per UNet call, before (all feeds copied), ${label}`, 'KiB', perCall.before / 1024, 'counted at the run wrapper');
    r.fig(`measured host↔device bytes per UNet call, after (resident), ${label}`, 'KiB', perCall.after / 1024, `counted at the run wrapper, the one-time uploads spread over the ${steps} calls; ${(perCall.before / perCall.after).toFixed(1)}× less`);
  }
}
