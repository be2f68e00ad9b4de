import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { textToVideo, type TextToVideoRequest } from '../../../src/main/engine/pipelines/text-to-video';
import { liveDeviceTensors } from '../../../src/main/engine/runtime/device-tensor';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS } from '../../../src/shared/domain/generation';
import { StudioError } from '../../../src/shared/errors';
import { writeMotionLora } from '../lora/fixtures';
import { webgpuAvailable } from '../webgpu-device';

/**
 * GPU-resident sampling on WebGPU (SwiftShader): the starter model with a motion LoRA on slots, generated with
 * constant feeds kept on the device and with every feed copied per run. Same frames, far fewer bytes, and no
 * device tensor outlives its clip, its stack, a cancel, a failed run or the model set.
 */
const gpu = await webgpuAvailable();
let root: string;
let lora: string;
const sets: ModelSet[] = [];
const tokenizer = ClipTokenizer.load();
const { prompt, negativePrompt, clipSkip, weighting, scheduler } = DEFAULT_PARAMS;
const req: TextToVideoRequest = { prompt, negativePrompt, clipSkip, weighting, scheduler, seed: 7, steps: 2, guidance: 1.5, frames: 2, width: 32, height: 32 };

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gpu-resident-'));
  lora = join(root, 'pan.safetensors');
  writeMotionLora(lora, 4, 3);
});
afterAll(async () => {
  for (const s of sets) await s.dispose();
  rmSync(root, { recursive: true, force: true });
});

type Transfers = ReturnType<ModelSet['transfers']>;
/** The traffic counted after `start` (counters only grow). */
function since(start: Transfers, now: Transfers): Transfers {
  return { runs: now.runs - start.runs, hostToDevice: now.hostToDevice - start.hostToDevice, deviceToHost: now.deviceToHost - start.deviceToHost };
}

function modelSet(provider: 'webgpu' | 'cpu', residentFeeds?: boolean): ModelSet {
  const s = new ModelSet(starterSource([{ path: lora, weight: 0.8 }]), { cacheRoot: join(root, 'cache'), providers: [provider], precision: 'float32', loraRank: 8, residentFeeds });
  sets.push(s);
  return s;
}

// SwiftShader compiles every shader on first use (minutes on a loaded 2-core machine), per session: one model set
// serves every test, switched between copied and resident feeds.
describe.skipIf(!gpu.usable)('GPU-resident feeds (WebGPU)', { timeout: 900_000 }, () => {
  let set: ModelSet;
  beforeAll(() => {
    set = modelSet('webgpu', false);
  });

  it('keeps the LoRA slot feeds and the text context on the device: same frames, only the latents cross per step', async () => {
    const live0 = liveDeviceTensors();
    const before = await textToVideo(set.models(), req, { tokenizer });
    const c = set.transfers('unet');
    expect(liveDeviceTensors()).toBe(live0); // copied: nothing held on the device
    set.setResidentFeeds(true);
    const after = await textToVideo(set.models(), req, { tokenizer });
    expect(Buffer.from(after.frames.buffer).equals(Buffer.from(before.frames.buffer))).toBe(true);

    const r = since(c, set.transfers('unet'));
    expect(c.runs).toBe(req.steps);
    expect(r.runs).toBe(req.steps);
    // Per step both copy the sample (2 videos × 2 frames × 4 × 4 × 4 floats: 32² pixels, the VAE's 8× factor) and
    // the timestep, and read noise_pred.
    const sample = 2 * 2 * 4 * 4 * 4 * 4;
    expect(r.deviceToHost).toBe(c.deviceToHost);
    expect(r.deviceToHost).toBe(req.steps * sample);
    const perCallCopied = c.hostToDevice / c.runs;
    const constants = perCallCopied - sample - 4; // context + every slot feed
    expect(constants).toBeGreaterThan(sample); // the slots dominate even at this size
    // Resident: the constants once (shared zero buffers once), then sample + timestep per step.
    const uploaded = r.hostToDevice - req.steps * (sample + 4);
    expect(uploaded).toBeGreaterThan(0);
    expect(uploaded).toBeLessThanOrEqual(constants);
    // The stack's slot feeds stay for the next clip; the clip's context is gone.
    const heldForStack = liveDeviceTensors() - live0;
    expect(heldForStack).toBeGreaterThan(0);
    // A second clip with the same stack uploads only its context.
    await textToVideo(set.models(), { ...req, seed: 8 }, { tokenizer });
    const r2 = since(c, set.transfers('unet'));
    const context = 2 * 2 * 77 * starterSource().configs.text_encoder.hidden_size * 4;
    expect(r2.hostToDevice - r.hostToDevice).toBe(req.steps * (sample + 4) + context);
    expect(liveDeviceTensors() - live0).toBe(heldForStack);
    // The text encoder's LoRA feeds are resident too (the motion LoRA has none: the plain zeros, once).
    const te = set.transfers('text_encoder');
    expect(te.runs).toBeGreaterThan(1);

    // A stack change releases the old slot feeds at once; back to the same stack, they upload again.
    set.setLoras([]);
    expect(liveDeviceTensors()).toBe(live0);
    set.setLoras([{ path: lora, weight: 0.8 }]);
  });

  it('releases everything on the device after a cancel, a failed run and close', async () => {
    const live0 = liveDeviceTensors();
    const abort = new AbortController();
    let steps = 0;
    const cancelled = textToVideo(set.models(abort.signal), req, {
      tokenizer,
      signal: abort.signal,
      onStep: () => {
        steps++;
        expect(liveDeviceTensors()).toBeGreaterThan(live0); // slots + context held during the clip
        abort.abort();
      },
    });
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(steps).toBe(1);
    expect(liveDeviceTensors()).toBe(live0);

    // A device lost in the middle of the second step (forced from the session run).
    let unetRuns = 0;
    const failing = textToVideo(set.models(), req, {
      tokenizer,
      onStep: () => {
        if (++unetRuns === 1) process.env.ANIMATELCM_INJECT_RUN_FAULT = 'webgpu:1:[WebGPU] device lost: VK_ERROR_DEVICE_LOST';
      },
    });
    const err = await failing.catch((e: unknown) => e);
    delete process.env.ANIMATELCM_INJECT_RUN_FAULT;
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('DEVICE_LOST');
    expect(liveDeviceTensors()).toBe(live0);
    // The set still works afterwards (everything uploads again).
    const again = await textToVideo(set.models(), req, { tokenizer });
    expect(again.frames.every(Number.isFinite)).toBe(true);
    await set.dispose();
    expect(liveDeviceTensors()).toBe(live0);
  });
});

describe('the CPU path', { timeout: 300_000 }, () => {
  it('moves no device bytes and makes no device tensor', async () => {
    const set = modelSet('cpu');
    const live0 = liveDeviceTensors();
    await textToVideo(set.models(), { ...req, steps: 1 }, { tokenizer });
    expect(set.transfers('unet')).toEqual({ runs: 1, hostToDevice: 0, deviceToHost: 0 });
    expect(liveDeviceTensors()).toBe(live0);
  });
});
