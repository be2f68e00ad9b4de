import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { parseUNetConfig, parseMotionConfig } from '../../../src/main/compiler/families/configs';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { readNpyF32 } from '../../../src/main/compiler/io/npy';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import { tableWeights, readJson } from '../../../src/main/verify/kinds/unet2d';
import { mkdtempSync, readdirSync } from 'node:fs';
const R = '/work/main/test/fixtures/reference/';
const which = process.argv[2] ?? 'unet2d';
const dir = R + which;
const cfg = parseUNetConfig(readJson(R + 'unet2d/config.json'));
const w = tableWeights(openSafetensors(R + 'unet2d/weights.safetensors'));
const motion = which === 'unet2d' ? undefined : { w: tableWeights(openSafetensors(R + 'unet_motion/motion_adapter.safetensors')), cfg: parseMotionConfig(readJson(R + 'unet_motion/motion_adapter_config.json')), frames: 4, groupnorm: (which === 'unet_motion' ? 'across_frames' : 'per_frame') as 'across_frames' | 'per_frame' };
let sample = readNpyF32(dir + '/sample.npy');
if (motion) { // (B,C,F,H,W) -> (B*F,C,H,W)
  const [B, C, F, H, W] = sample.shape; const d = new Float32Array(sample.data.length);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) for (let i = 0; i < H * W; i++) d[(((b * F + f) * C + c) * H * W) + i] = sample.data[(((b * C + c) * F + f) * H * W) + i];
  sample = { shape: [B * F, C, H, W], data: d };
}
const ctx = readNpyF32(dir + (motion ? '/encoder_hidden_states_repeated.npy' : '/encoder_hidden_states.npy'));
const g = buildUNetGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, motion, taps: true });
const { modelPath } = emitModel(g, { dir: mkdtempSync('/tmp/dbg-'), modelFile: 'm.onnx' });
const s = await createSession(modelPath);
const r = await s.run({ sample: f32Tensor(sample.data, sample.shape), timestep: f32Tensor(Float32Array.of(999), [1]), encoder_hidden_states: f32Tensor(ctx.data, ctx.shape) });
for (const f of readdirSync(dir + '/intermediates_t999')) {
  const name = f.replace(/\.npy$/, '');
  const ref = readNpyF32(dir + '/intermediates_t999/' + f);
  const out = r[name];
  if (!out) { console.log('no tap', name); continue; }
  let m = 0, mr = 0; const a = out.data as Float32Array;
  const n = Math.min(a.length, ref.data.length);
  for (let i = 0; i < n; i++) { m = Math.max(m, Math.abs(a[i] - ref.data[i])); mr = Math.max(mr, Math.abs(ref.data[i])); }
  console.log(name.padEnd(40), 'len', a.length, ref.data.length, 'maxdiff', m.toExponential(2), 'refmax', mr.toFixed(3));
}
