import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../src/shared/api';
import { engineInfo } from '../../../src/main/engine/runtime/info';
import { choosePrecision } from '../../../src/main/engine/runtime/precision';
import { describeWebgpuAdapter, probeShaderF16 } from '../../../src/main/engine/runtime/webgpu-adapter';
import { guardFp16 } from '../../../src/main/engine/pipelines/fp16-guard';
import type { PipelineModels } from '../../../src/main/engine/pipelines/pipeline-models';
import { webgpuAvailable } from '../webgpu-device';

const gpu = await webgpuAvailable();
const adapter = (shaderF16: boolean): DeviceInfo => ({ vendor: 'X', name: 'Test GPU', shaderF16, software: false });

describe('precision follows the device', () => {
  it('fp16 only where the device runs fp16 graphs', () => {
    expect(choosePrecision('cpu', undefined).precision).toBe('float32');
    expect(choosePrecision('coreml', undefined).precision).toBe('float32');
    expect(choosePrecision('cuda', undefined).precision).toBe('float16');
    expect(choosePrecision('dml', undefined).precision).toBe('float16');
    expect(choosePrecision('webgpu', adapter(true))).toEqual({ precision: 'float16', why: 'fp16 on WebGPU (the adapter has shader-f16).' });
    expect(choosePrecision('webgpu', adapter(false))).toEqual({ precision: 'float32', why: 'fp32 on WebGPU (the WebGPU adapter (Test GPU) has no shader-f16).' });
  });

  it('the Settings override wins where the device can run it, and says why where it cannot', () => {
    expect(choosePrecision('cuda', undefined, 'fp32')).toEqual({ precision: 'float32', why: 'fp32 on CUDA (chosen in Settings).' });
    expect(choosePrecision('webgpu', adapter(true), 'fp16').precision).toBe('float16');
    expect(choosePrecision('webgpu', adapter(false), 'fp16')).toEqual({ precision: 'float32', why: 'fp32 on WebGPU: fp16 was chosen in Settings, but the WebGPU adapter (Test GPU) has no shader-f16.' });
    expect(choosePrecision('cpu', undefined, 'fp16').precision).toBe('float32');
  });

  it('int8 is a CPU choice: fp32 graphs with int8 Linear layers there, the automatic choice elsewhere', () => {
    expect(choosePrecision('cpu', undefined, 'int8')).toEqual({ precision: 'float32', quant: 'int8', why: "int8 on CPU (chosen in Settings): the UNet's linear and convolution layers run as int8 products — faster, approximate." });
    expect(choosePrecision('cuda', undefined, 'int8')).toEqual({ precision: 'float16', why: 'fp16 on CUDA: int8 was chosen in Settings, but it is a CPU precision.' });
    expect(choosePrecision('webgpu', adapter(false), 'int8')).toEqual({ precision: 'float32', why: 'fp32 on WebGPU: int8 was chosen in Settings, but it is a CPU precision.' });
  });

  it.skipIf(!gpu.usable)(`finds the WebGPU adapter and whether it runs fp16 (SwiftShader: software, no shader-f16) ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, async () => {
    const info = await engineInfo();
    const webgpu = info.providers.find((p) => p.name === 'webgpu');
    expect(webgpu?.device).toBeDefined();
    expect(await probeShaderF16()).toBe(webgpu?.device?.shaderF16);
    if (process.env.VK_ICD_FILENAMES?.includes('swiftshader')) {
      expect(webgpu?.device).toMatchObject({ vendor: 'Google', software: true, shaderF16: false });
      expect(describeWebgpuAdapter(false).name).toMatch(/SwiftShader/);
    }
  });
});

describe('fp16 overflow guard', () => {
  const fake = (value: number, calls: string[]): PipelineModels => ({
    latentChannels: 4,
    vaeScaleFactor: 8,
    vaeScalingFactor: 0.18215,
    contextDim: 8,
    maxFrames: 16,
    encodeText: () => Promise.resolve(Float32Array.of(value)),
    unet: () => (calls.push(`unet ${value}`), Promise.resolve(Float32Array.of(1, value))),
    decode: () => (calls.push(`decode ${value}`), Promise.resolve(Float32Array.of(value, value))),
  });

  it('re-runs a stage whose output is not finite on the fp32 models, once created, with a note', async () => {
    const calls: string[] = [];
    const notes: string[] = [];
    let made = 0;
    const reruns: string[] = [];
    const guarded = guardFp16(fake(Infinity, calls), () => (made++, Promise.resolve(fake(2, calls))), (n) => notes.push(n), (stage) => reruns.push(stage));
    expect(Array.from(await guarded.decode(new Float32Array(1), 1, 1))).toEqual([2, 2]);
    expect(Array.from(await guarded.unet(new Float32Array(1), 1, new Float32Array(1), { batch: 1, frames: 1, latentHeight: 1, latentWidth: 1, tokens: 77 }))).toEqual([1, 2]);
    expect(made).toBe(1);
    expect(calls).toEqual(['decode Infinity', 'decode 2', 'unet Infinity', 'unet 2']);
    expect(notes[0]).toBe('The VAE decoder overflowed fp16 (2 of 2 values not finite); re-ran it in fp32.');
    // The job records which stages ran in fp32 (History shows them).
    expect(reruns).toEqual(['VAE decoder', 'UNet']);
  });

  it('passes finite outputs through without making fp32 models', async () => {
    const calls: string[] = [];
    let made = 0;
    const guarded = guardFp16(fake(3, calls), () => (made++, Promise.resolve(fake(2, calls))), () => undefined);
    expect(Array.from(await guarded.decode(new Float32Array(1), 1, 1))).toEqual([3, 3]);
    expect(made).toBe(0);
  });
});
