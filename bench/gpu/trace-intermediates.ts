/**
 * Where a graph's WebGPU result departs from the CPU's: every float intermediate of one of the compiler's graphs
 * is made a graph output (through a Flatten, so its rank need not be known), the graph runs once on the CPU and
 * once on WebGPU with the same feeds, and each node is listed with max |Δ|, the value scale and the error the
 * node ADDS (its Δ minus the largest Δ among its inputs, relative to scale). The nodes that add error are the ones
 * to cut out as single-op sub-graphs. Used for the controlnet kind (see bench/gpu/controlnet-webgpu.md) and the
 * pipeline_animatelcm_i2v UNet call (`i2v`: --outputs-only runs the graph untraced, --in-order lists the nodes
 * where the error starts, --instance-norm / --native-trig build it without the WebGPU plans; TRACE_T picks t).
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx bench/gpu/trace-intermediates.ts controlnet|i2v [top] [--native-trig] [--instance-norm] [--outputs-only] [--in-order]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseUNetConfig } from '../../src/main/compiler/families/configs';
import { buildControlNetGraph } from '../../src/main/compiler/families/controlnet';
import { imageFeatureName } from '../../src/main/compiler/families/image-encoder';
import { buildUNetGraph, imageFeatureLevels } from '../../src/main/compiler/families/unet';
import { applyLoraStack } from '../../src/main/engine/lora/stack';
import { ANIMATELCM_LORA_SCALE } from '../../src/main/engine/models/model-source';
import { openCanonical } from '../../src/main/verify/canonical';
import { openI2vFile, runImageEncoder } from '../../src/main/verify/kinds/i2v-adapter';
import { foldFrames } from '../../src/main/verify/kinds/unet-motion';
import { attentionPlanFor } from '../../src/main/compiler/graph/attention-plan';
import { normPlanFor } from '../../src/main/compiler/graph/norm-plan';
import { trigPlanFor } from '../../src/main/compiler/graph/trig-plan';
import { attr, type GraphIR } from '../../src/main/compiler/graph/builder';
import { emitModel } from '../../src/main/compiler/graph/emit';
import { readNpyF32 } from '../../src/main/compiler/io/npy';
import { openSafetensors } from '../../src/main/compiler/io/safetensors';
import { canonicalizeControlNet } from '../../src/main/compiler/names/controlnet-names';
import { createSession, f32Tensor, type HostTensor } from '../../src/main/engine/runtime/session';
import { readJson } from '../../src/main/verify/kinds/unet2d';

/** `graph` plus one `trace/<value>` output [1, n] per float node output. */
function withTraces(graph: GraphIR): { graph: GraphIR; traced: string[] } {
  const nodes = [...graph.nodes];
  const outputs = [...graph.outputs];
  const traced: string[] = [];
  const isOutput = new Set(graph.outputs.map((o) => o.name));
  const skip = new Set(['Shape', 'Constant', 'ConstantOfShape', 'Cast', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Range']);
  for (const n of graph.nodes) {
    if (skip.has(n.opType)) continue;
    for (const v of n.outputs) {
      if (!v || isOutput.has(v)) continue;
      const t = `trace/${traced.length}`;
      nodes.push({ opType: 'Flatten', domain: '', name: `${t}/flatten`, inputs: [v], outputs: [t], attrs: { axis: attr.int(0) } });
      outputs.push({ name: t, elemType: graph.floatType, shape: [1, `n${traced.length}`] });
      traced.push(v);
    }
  }
  return { graph: { ...graph, nodes, outputs }, traced };
}

async function runOn(provider: 'cpu' | 'webgpu', modelPath: string, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await createSession(modelPath, { providers: [provider] });
  try {
    return await s.run(feeds);
  } finally {
    await s.dispose();
  }
}

function controlnetCase(): { graph: GraphIR; feeds: Record<string, HostTensor> } {
  const dir = 'test/fixtures/reference/controlnet';
  const cfg = parseUNetConfig(readJson(join(dir, 'config.json')));
  const sample = readNpyF32(join(dir, 'sample.npy'));
  const context = readNpyF32(join(dir, 'encoder_hidden_states.npy'));
  const cond = readNpyF32(join(dir, 'controlnet_cond.npy'));
  const [n, , hh, ww] = sample.shape;
  const { weights } = canonicalizeControlNet(openSafetensors(join(dir, 'controlnet.safetensors')));
  const graph = buildControlNetGraph(weights, cfg, { batch: n, latentHeight: hh, latentWidth: ww, contextLength: context.shape[1], floatType: 'float32', attention: attentionPlanFor('webgpu'), trig: process.argv.includes('--native-trig') ? 'native' : trigPlanFor('webgpu') });
  return {
    graph,
    feeds: {
      sample: f32Tensor(sample.data, sample.shape),
      timestep: f32Tensor(Float32Array.of(259), [1]),
      encoder_hidden_states: f32Tensor(context.data, context.shape),
      controlnet_cond: f32Tensor(cond.data, cond.shape),
      conditioning_scale: f32Tensor(Float32Array.of(0.7), [1]),
    },
  };
}

/**
 * The UNet call of the pipeline_animatelcm_i2v case at its step `t` (default 669, its worst): the UNet with the
 * spatial LoRA merged at AnimateLCM's 1/8 scale, the I2V motion modules, per-frame GroupNorm and the image
 * features (computed once on the CPU from the recorded image latent, fed to both runs).
 */
async function i2vCase(t: number): Promise<{ graph: GraphIR; feeds: Record<string, HostTensor> }> {
  const dir = 'test/fixtures/reference/pipeline_animatelcm_i2v';
  const files = readJson(join(dir, 'files.json')) as { components: Record<string, string>; run: { motion_scale: number; lcm_lora_multiplier: number } };
  const comp = (k: string): string => resolve(dir, files.components[k]);
  const cfg = parseUNetConfig(readJson(comp('unet_config')));
  const moduleCfg = (readJson(join(dirname(comp('i2v_ckpt')), 'files.json')) as { config?: { motion_module_kwargs?: { num_attention_heads?: number }; motion_module_groupnorm_groups?: number } }).config ?? {};
  const i2v = openI2vFile(comp('i2v_ckpt'), moduleCfg.motion_module_kwargs?.num_attention_heads ?? 8, moduleCfg.motion_module_groupnorm_groups ?? 32);
  const unet = openCanonical(comp('unet_base'), 'unet');
  const merged = process.argv.includes('--no-lora') ? unet.weights : applyLoraStack({ unet: unet.weights }, [{ file: comp('lora'), weight: files.run.lcm_lora_multiplier, fixedScale: ANIMATELCM_LORA_SCALE }]).unet!;
  const latents = readNpyF32(join(dir, 'initial_latents.npy'));
  const frames = latents.shape[2];
  const sample = foldFrames(latents);
  const prompt = readNpyF32(join(dir, 'prompt_embeds.npy'));
  const context = new Float32Array(prompt.data.length * frames);
  for (let f = 0; f < frames; f++) context.set(prompt.data, f * prompt.data.length);
  const [, , hh, ww] = sample.shape;
  const levels = cfg.block_out_channels.length;
  const encOpts = { frames, levels, motionScale: files.run.motion_scale, insertionWeights: new Array<number>(levels).fill(1), workDir: mkdtempSync(join(tmpdir(), 'trace-enc-')) };
  const imgLatent = readNpyF32(join(dir, 'img_latent.npy'));
  const feats = await runImageEncoder(i2v.encoder, imgLatent, encOpts);
  // The image encoder is its own graph: its WebGPU features against the CPU's, per level.
  const gpuFeats = await runImageEncoder(i2v.encoder, imgLatent, { ...encOpts, target: { provider: 'webgpu', precision: 'float32' } });
  feats.forEach((f, i) => {
    const a = f.data as Float32Array;
    const b = gpuFeats[i].data as Float32Array;
    let m = 0;
    let s = 0;
    for (let k = 0; k < a.length; k++) { m = Math.max(m, Math.abs(a[k] - b[k])); s = Math.max(s, Math.abs(a[k])); }
    console.log(`image feature level ${i} [${f.dims.join(', ')}]: WebGPU max|Δ| ${m.toExponential(2)} of ${s.toExponential(2)}`);
  });
  const graph = buildUNetGraph(merged, cfg, {
    batch: 1, latentHeight: hh, latentWidth: ww, contextLength: prompt.shape[1], floatType: 'float32', attention: attentionPlanFor('webgpu'),
    trig: process.argv.includes('--native-trig') ? 'native' : trigPlanFor('webgpu'),
    norm: process.argv.includes('--instance-norm') ? 'instance' : normPlanFor('webgpu'),
    motion: { w: i2v.motion, cfg: i2v.motionCfg, frames, groupnorm: 'per_frame' }, imageFeatures: true,
  });
  return {
    graph,
    feeds: {
      sample: f32Tensor(sample.data, sample.shape),
      timestep: f32Tensor(Float32Array.of(t), [1]),
      encoder_hidden_states: f32Tensor(context, [frames, prompt.shape[1], prompt.shape[2]]),
      ...Object.fromEntries(imageFeatureLevels(cfg).map((i) => [imageFeatureName(i), feats[i]])),
    },
  };
}

const which = process.argv[2] ?? 'controlnet';
const top = Number(process.argv[3] ?? 25);
if (which !== 'controlnet' && which !== 'i2v') throw new Error(`unknown case ${which} (controlnet, i2v)`);
const { graph, feeds } = which === 'i2v' ? await i2vCase(Number(process.env.TRACE_T ?? 669)) : controlnetCase();
// --outputs-only: the graph as compiled (traced outputs keep onnxruntime from fusing across them).
const { graph: traced, traced: names } = process.argv.includes('--outputs-only') ? { graph, traced: [] as string[] } : withTraces(graph);
const dir = mkdtempSync(join(tmpdir(), 'trace-'));
try {
  const { modelPath } = emitModel(traced, { dir, modelFile: 'traced.onnx' });
  const cpu = await runOn('cpu', modelPath, feeds);
  const gpu = await runOn('webgpu', modelPath, feeds);
  const err = new Map<string, { maxAbs: number; scale: number }>();
  for (const f of Object.keys(feeds)) err.set(f, { maxAbs: 0, scale: 1 });
  for (const i of graph.initializers) err.set(i.name, { maxAbs: 0, scale: 1 });
  const stat = (a: Float32Array, b: Float32Array): { maxAbs: number; scale: number } => {
    let m = 0;
    let s = 0;
    for (let i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
      s = Math.max(s, Math.abs(a[i]));
    }
    return { maxAbs: m, scale: s };
  };
  names.forEach((v, i) => err.set(v, stat(cpu[`trace/${i}`].data as Float32Array, gpu[`trace/${i}`].data as Float32Array)));
  for (const o of graph.outputs) err.set(o.name, stat(cpu[o.name].data as Float32Array, gpu[o.name].data as Float32Array));
  const rows = graph.nodes
    .filter((n) => n.outputs.every((o) => err.has(o)))
    .map((n) => {
      const e = err.get(n.outputs[0])!;
      const inRel = Math.max(0, ...n.inputs.map((x) => { const q = err.get(x); return q ? q.maxAbs / Math.max(q.scale, 1e-30) : 0; }));
      const rel = e.maxAbs / Math.max(e.scale, 1e-30);
      return { node: n.name, op: n.opType, maxAbs: e.maxAbs, scale: e.scale, rel, inRel, added: rel - inRel };
    });
  const fmt = (x: number): string => x.toExponential(2);
  console.log(`${graph.name}: ${rows.length} nodes traced; outputs:`);
  for (const o of graph.outputs) { const e = err.get(o.name)!; console.log(`  ${o.name} max|Δ| ${fmt(e.maxAbs)} of ${fmt(e.scale)}`); }
  console.log(`nodes adding the most relative error (Δ/scale minus the inputs' worst Δ/scale):`);
  // --in-order: the nodes in graph order instead (where the error starts, before ill-conditioned ops magnify it).
  const order = process.argv.includes('--in-order') ? rows.filter((r) => r.added > 1e-6) : [...rows].sort((a, b) => b.added - a.added);
  for (const r of order.slice(0, top)) {
    console.log(`  ${r.op.padEnd(22)} ${r.node.padEnd(70)} max|Δ| ${fmt(r.maxAbs)} scale ${fmt(r.scale)} rel ${fmt(r.rel)} (inputs ${fmt(r.inRel)})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
