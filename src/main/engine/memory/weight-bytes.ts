import { takesWinograd, WINOGRAD_POINTS, type ConvPlan } from '../../compiler/graph/conv-plan';
import { vaeTakesWinograd } from '../../compiler/families/vae';
import { INT8_EXACT_UNET_WEIGHTS } from '../../compiler/graph/quant-plan';
import { numel, type WeightSet } from '../../compiler/io/tensor';
import type { Component } from '../models/graph-identity';
import type { ModelSource } from '../models/model-source';

const elements = new WeakMap<WeightSet, number>();

/** Number of weight elements in a set (read from headers, remembered per set). */
export function weightElements(w: WeightSet): number {
  let n = elements.get(w);
  if (n === undefined) {
    n = 0;
    for (const name of w.names()) n += numel(w.get(name)?.shape ?? []);
    elements.set(w, n);
  }
  return n;
}

const int8Split = new WeakMap<WeightSet, { int8: number; float: number }>();

/**
 * Elements of a UNet (or motion module) weight set the int8 plan stores as int8 (every Linear and conv weight but the
 * time embeddings', conv_in's and conv_out's: compiler/graph/quant-plan.ts) and those it keeps in float.
 */
function unetInt8Split(w: WeightSet): { int8: number; float: number } {
  let s = int8Split.get(w);
  if (!s) {
    s = { int8: 0, float: 0 };
    for (const name of w.names()) {
      const shape = w.get(name)?.shape ?? [];
      const quantised = name.endsWith('.weight') && (shape.length === 2 || shape.length === 4) && !INT8_EXACT_UNET_WEIGHTS.test(name);
      s[quantised ? 'int8' : 'float'] += numel(shape);
    }
    int8Split.set(w, s);
  }
  return s;
}

const winogradExtra = new WeakMap<WeightSet, Map<string, number>>();

/**
 * Elements the winograd conv plan adds to the weights of a set that `takes` (name, shape): each 3×3 kernel the
 * plan takes is stored transformed, 36 values where the kernel has 9 (compiler/graph/conv-plan.ts). Remembered
 * per set and `part` (the UNet, the VAE decoder, the VAE encoder).
 */
function winogradExtraOf(w: WeightSet, part: string, takes: (name: string, shape: readonly number[]) => boolean): number {
  let perPart = winogradExtra.get(w);
  if (!perPart) winogradExtra.set(w, (perPart = new Map()));
  let n = perPart.get(part);
  if (n === undefined) {
    n = 0;
    for (const name of w.names()) {
      const shape = w.get(name)?.shape ?? [];
      if (name.endsWith('.weight') && takes(name, shape)) n += (numel(shape) / 9) * (WINOGRAD_POINTS - 9);
    }
    perPart.set(part, n);
  }
  return n;
}

/** The winograd plan's extra elements of a component: the UNet's kernels, or the VAE decoder's or encoder's. */
function winogradExtraElements(source: ModelSource, component: Component): number {
  const w = source.weights;
  // The downsamplers are the UNet's stride-2 convs.
  if (component === 'unet') return winogradExtraOf(w.unet, 'unet', (name, shape) => takesWinograd(shape, /\.downsamplers\./.test(name) ? 2 : 1));
  if (component !== 'vae' && component !== 'vae_encoder') return 0;
  const part = component === 'vae' ? 'decoder.' : 'encoder.';
  const cfg = source.configs.vae;
  return winogradExtraOf(w.vae, part, (name, shape) => name.startsWith(part) && vaeTakesWinograd(cfg, name, shape));
}

/** What decides a component's weight bytes: the float type, the UNet's int8 plan and the conv plan. */
export interface WeightTarget {
  precision: 'float32' | 'float16';
  /** The int8 plan (compiler/graph/quant-plan.ts): the UNet's Linear and conv weights take a byte each. */
  quant?: 'float' | 'int8';
  /** The UNet's and the VAE's conv plan (compiler/graph/conv-plan.ts): Winograd kernels take 4× their 3×3 kernels' bytes. */
  conv?: ConvPlan;
}

/**
 * Bytes of a component's compiled weights (the UNet graph carries the motion module too); with `quant` 'int8' the
 * UNet's Linear and conv weights count one byte each (their scales are a few KB); with the winograd conv plan (and
 * float layers) the 3×3 kernels it takes in the UNet and the VAE count 4×.
 */
export function weightBytes(source: ModelSource, component: Component, target: WeightTarget): number {
  const w = source.weights;
  const { precision, quant } = target;
  if (component === 'unet' && quant === 'int8') {
    const [a, b] = [unetInt8Split(w.unet), unetInt8Split(w.motion)];
    return a.int8 + b.int8 + (a.float + b.float) * (precision === 'float16' ? 2 : 4);
  }
  const winograd = target.conv === 'winograd' ? winogradExtraElements(source, component) : 0;
  const n =
    winograd +
    (component === 'unet'
      ? weightElements(w.unet) + weightElements(w.motion)
      : component === 'vae_encoder'
        ? weightElements(w.vae)
        : component === 'img_encoder'
          ? (w.img_encoder ? weightElements(w.img_encoder) : 0)
          : weightElements(w[component]));
  return n * (precision === 'float16' ? 2 : 4);
}
