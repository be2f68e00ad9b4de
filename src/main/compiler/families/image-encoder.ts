import { StudioError } from '../../../shared/errors';
import type { WeightSet } from '../io/tensor';
import { allInitializers, attr, GraphBuilder, type GraphIR } from '../graph/builder';
import { conv2d, need } from '../graph/layers';
import { sinusoidalTable } from './motion';
import { scopedOp } from './scoped-op';

/**
 * AnimateLCM-I2V's image encoder (animatelcm/models/adapter.py `Adapter(cin=4, channels=[320,640,1280,1280],
 * nums_rb=2, ksize=1, sk=True, use_conv=False)`, weights `img_encoder.*` of AnimateLCM_sd15_i2v.ckpt, canonical
 * names without the prefix) as an ONNX graph. Its outputs are added to the UNet's down blocks (unet.ts,
 * `imageFeatures`).
 *
 *   img_latent [B, 4, h, w] → conv_in (3×3)            once per image: the authors repeat the latent over the F
 *   → + motion_scale · PE[f] (broadcast over h, w)     frames first, but PE is the only frame-dependent term
 *   → [B·F, C0, h, w] (row b·F + f)
 *   → per level i, block j: [i>0, j=0: replicate-pad right/bottom to even, 2×2 average pool]
 *                           [in_conv 1×1 where the channel count changes]
 *                           x = x + block2(ReLU(block1(x)))      (block1 3×3, block2 1×1)
 *   → img_feature_i = x · insertion_weights[i]        [B·F, C_i, ⌈h/2^i⌉, ⌈w/2^i⌉]
 *
 * PE is AnimateLCM's `fixed_positional_embedding(F, C0)`: the same float32 sin/cos table as the motion modules'.
 * `motion_scale` (the app's slider, default 0.8) and `insertion_weights` (default 1s) are inputs, so changing
 * them never recompiles.
 */

export interface ImageEncoderBuildOptions {
  batch: number;
  frames: number;
  latentHeight: number;
  latentWidth: number;
  /** Levels = the UNet's down blocks (4 for SD1.5); the encoder's blocks split evenly into them. */
  levels: number;
  floatType?: 'float32' | 'float16';
  name?: string;
}

/** What the encoder's weights say about it: channels per level and blocks per level (nums_rb). */
export interface ImageEncoderShape {
  inChannels: number;
  channels: number[];
  blocksPerLevel: number;
}

export function imageEncoderShape(w: WeightSet, levels: number): ImageEncoderShape {
  const conv = need(w, 'conv_in.weight');
  let blocks = 0;
  while (w.has(`body.${blocks}.block1.weight`)) blocks++;
  if (levels < 1 || blocks === 0 || blocks % levels !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `The image encoder has ${blocks} blocks, which do not split into the UNet's ${levels} down blocks; it is not AnimateLCM-I2V's image encoder for this UNet.`, { blocks, levels });
  }
  const per = blocks / levels;
  const channels = Array.from({ length: levels }, (_, i) => need(w, `body.${i * per}.block1.weight`).shape[0]);
  return { inChannels: conv.shape[1], channels, blocksPerLevel: per };
}

/** Output names, one per level: `img_feature_<i>`. */
export function imageFeatureName(level: number): string {
  return `img_feature_${level}`;
}

export function buildImageEncoderGraph(w: WeightSet, opts: ImageEncoderBuildOptions): GraphIR {
  const floatType = opts.floatType ?? 'float32';
  const { batch: b, frames: f, latentHeight: h0, latentWidth: w0, levels } = opts;
  if (!(b >= 1 && f >= 1 && h0 >= 1 && w0 >= 1)) {
    throw new StudioError('INVALID_PARAMS', `Invalid image-encoder shape: batch ${b}, frames ${f}, latent ${h0}×${w0}.`);
  }
  const shape = imageEncoderShape(w, levels);
  const c0 = need(w, 'conv_in.weight').shape[0];
  const g = new GraphBuilder(opts.name ?? 'img_encoder', floatType);
  g.metadata['family'] = 'animatelcm_i2v_img_encoder';
  g.metadata['shape'] = JSON.stringify({ batch: b, frames: f, latentHeight: h0, latentWidth: w0, levels });
  const latent = g.input('img_latent', floatType, [b, shape.inChannels, h0, w0]);
  const motionScale = g.input('motion_scale', floatType, [1]);
  const insertion = g.input('insertion_weights', floatType, [levels]);

  // conv_in once per image, then the frames differ only by motion_scale · PE.
  const op = scopedOp(g, 'pos_embed');
  const conv = conv2d(g, w, 'conv_in', latent);
  const perImage = op('Unsqueeze', [conv, g.i64([1])], 'per_image');
  const pe = g.constFloat(sinusoidalTable(f, c0), [1, f, c0, 1, 1], 'table');
  const scaled = op('Mul', [op('Reshape', [motionScale, g.i64([1, 1, 1, 1, 1])], 'scale_5d'), pe], 'scaled');
  // torch adds motion_scale·pe + x in that order; addition is commutative in IEEE, so this is the same value.
  let x = op('Reshape', [op('Add', [scaled, perImage], 'add'), g.i64([b * f, c0, h0, w0])], 'fold_frames');

  const weights = g.opN('Split', [insertion, g.i64(Array<number>(levels).fill(1))], levels, { axis: attr.int(0) }, { name: 'insertion_weights' });
  let cur = { c: c0, h: h0, w: w0 };
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j < shape.blocksPerLevel; j++) {
      const p = `body.${i * shape.blocksPerLevel + j}`;
      const bop = scopedOp(g, p);
      if (i > 0 && j === 0) {
        const ph = cur.h % 2;
        const pw = cur.w % 2;
        if (ph || pw) x = bop('Pad', [x, g.i64([0, 0, 0, 0, 0, 0, ph, pw])], 'pad_even', { mode: attr.string('edge') });
        x = bop('AveragePool', [x], 'down', { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
        cur = { ...cur, h: (cur.h + ph) / 2, w: (cur.w + pw) / 2 };
      }
      if (w.has(`${p}.in_conv.weight`)) x = conv2d(g, w, `${p}.in_conv`, x);
      const out = need(w, `${p}.block1.weight`).shape[0];
      if (out !== shape.channels[i]) {
        throw new StudioError('MODEL_SHAPE_MISMATCH', `Image encoder block ${p} has ${out} channels; its level has ${shape.channels[i]}.`);
      }
      const hdn = conv2d(g, w, `${p}.block2`, g.scope(p, () => g.op('Relu', [conv2d(g, w, `${p}.block1`, x)], {}, { name: 'act' })));
      x = bop('Add', [hdn, x], 'residual');
      cur = { ...cur, c: out };
    }
    const feature = g.scope(`level${i}`, () => g.op('Mul', [x, weights[i]], {}, { name: 'insertion_weight' }));
    g.output(feature, imageFeatureName(i), floatType, [b * f, cur.c, cur.h, cur.w]);
  }
  const graph = g.build();
  const used = new Set(allInitializers(graph).flatMap((t) => (t.source.kind === 'weight' ? [t.source.view.name] : [])));
  const unused = w.names().filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `The image encoder has ${unused.length} weight(s) AnimateLCM-I2V's encoder does not use (e.g. ${unused.slice(0, 3).join(', ')}).`, { unused: unused.slice(0, 20) });
  }
  return graph;
}

/** Every weight name and shape of an Adapter(cin, channels, nums_rb, ksize=1, sk=True, use_conv=False). */
export function imageEncoderParameterShapes(cin: number, channels: readonly number[], blocksPerLevel: number): Map<string, number[]> {
  const s = new Map<string, number[]>([
    ['conv_in.weight', [channels[0], cin, 3, 3]],
    ['conv_in.bias', [channels[0]]],
  ]);
  let prev = channels[0];
  channels.forEach((c, i) => {
    for (let j = 0; j < blocksPerLevel; j++) {
      const p = `body.${i * blocksPerLevel + j}`;
      if (prev !== c) s.set(`${p}.in_conv.weight`, [c, prev, 1, 1]).set(`${p}.in_conv.bias`, [c]);
      s.set(`${p}.block1.weight`, [c, c, 3, 3]).set(`${p}.block1.bias`, [c]).set(`${p}.block2.weight`, [c, c, 1, 1]).set(`${p}.block2.bias`, [c]);
      prev = c;
    }
  });
  return s;
}
