import type { DeviceTensor } from '../runtime/device-tensor';
import type { EngineSession, Feed, HostTensor } from '../runtime/session';

/**
 * The feeds a model set keeps in GPU memory between runs, so a step copies only what changes (the latents, the
 * timestep). Two lifetimes:
 *
 * - **stack**: a component's LoRA slot feeds (at full size 192 UNet + 168 motion-module rank-128 lora_down / lora_up pairs, ≈177 MiB in
 *   fp16), uploaded on the first run after a stack change and kept until the next change, an error or close.
 *   Slots that share one host buffer (the zeros of unused slots) share one device buffer.
 * - **clip**: the UNet's text context (embeddings repeated per frame), uploaded on the clip's first step and kept
 *   until the clip ends (`releaseClip`).
 *
 * Only where the session can hold them (WebGPU in onnxruntime-node 1.30, `EngineSession.upload`); elsewhere the
 * host feeds go through untouched, so the CPU path does not change. The LCM scheduler step stays on the host:
 * each step's noise comes from torch's CPU generator (as many bytes as the latents), and previews read x0, so
 * the latents cross anyway (≈1 MiB each way at 16 × 512² fp16, against ≈177 MiB of slot feeds).
 */
export class ResidentFeeds {
  /** Per component: the host feed record the device copies were made from, and the copies by input name. */
  private readonly stack = new Map<string, { from: Record<string, HostTensor>; tensors: Record<string, DeviceTensor> }>();
  private clip: { from: Float32Array; dims: string; tensor: DeviceTensor } | undefined;

  constructor(private enabled: boolean) {}

  /** Switch residency on or off between clips (off: everything held leaves the device, feeds are copied per run). */
  setEnabled(on: boolean): void {
    if (!on) this.release();
    this.enabled = on;
  }

  /** The component's slot feeds as `session` should get them: on the device when it can hold them. */
  async loraFeeds(session: EngineSession, component: string, feeds: Record<string, HostTensor>): Promise<Record<string, Feed>> {
    if (!this.enabled || session.provider !== 'webgpu') return feeds;
    const held = this.stack.get(component);
    if (held?.from === feeds) return held.tensors;
    if (held) disposeAll(held.tensors);
    this.stack.delete(component);
    const tensors: Record<string, DeviceTensor> = {};
    const shared = new Map<HostTensor['data'], DeviceTensor[]>();
    try {
      for (const [name, t] of Object.entries(feeds)) {
        const same = shared.get(t.data)?.find((d) => sameDims(d.dims, t.dims));
        const d = same ?? (await session.upload(name, t));
        if (!d) {
          disposeAll(tensors);
          return feeds;
        }
        if (!same) shared.set(t.data, [...(shared.get(t.data) ?? []), d]);
        tensors[name] = d;
      }
    } catch (e) {
      disposeAll(tensors);
      throw e;
    }
    this.stack.set(component, { from: feeds, tensors });
    return tensors;
  }

  /** The clip's text context for input `name`: uploaded on the clip's first step, then reused. */
  async context(session: EngineSession, name: string, host: HostTensor): Promise<Feed> {
    if (!this.enabled || session.provider !== 'webgpu') return host;
    const dims = host.dims.join('x');
    if (this.clip?.from === host.data && this.clip.dims === dims) return this.clip.tensor;
    this.releaseClip();
    const d = await session.upload(name, host);
    if (!d) return host;
    this.clip = { from: host.data as Float32Array, dims, tensor: d };
    return d;
  }

  /** The clip ended: its context leaves the device (the stack's feeds stay for the next clip). */
  releaseClip(): void {
    this.clip?.tensor.dispose();
    this.clip = undefined;
  }

  /** The LoRA stack changed: the old slot feeds leave the device (the new ones upload on their first run). */
  releaseStack(): void {
    for (const held of this.stack.values()) disposeAll(held.tensors);
    this.stack.clear();
  }

  /** Cancel, error, close: nothing stays on the device. */
  release(): void {
    this.releaseClip();
    this.releaseStack();
  }
}

function disposeAll(tensors: Record<string, DeviceTensor>): void {
  for (const d of new Set(Object.values(tensors))) d.dispose();
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
