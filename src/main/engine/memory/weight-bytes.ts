import { takesWinograd, WINOGRAD_POINTS, type ConvPlan } from '../../compiler/graph/conv-plan';
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

const winogradExtra = new WeakMap<WeightSet, number>();

/**
 * Elements the winograd conv plan adds to a UNet weight set: each 3×3 kernel the plan takes is stored transformed,
 * 36 values where the kernel has 9 (compiler/graph/conv-plan.ts). The downsamplers are the UNet's stride-2 convs.
 */
function unetWinogradExtra(w: WeightSet): number {
  let n = winogradExtra.get(w);
  if (n === undefined) {
    n = 0;
    for (const name of w.names()) {
      const shape = w.get(name)?.shape ?? [];
      if (name.endsWith('.weight') && takesWinograd(shape, /\.downsamplers\./.test(name) ? 2 : 1)) n += (numel(shape) / 9) * (WINOGRAD_POINTS - 9);
    }
    winogradExtra.set(w, n);
  }
  return n;
}

/** What decides a component's weight bytes: the float type and the UNet's plans. */
export interface WeightTarget {
  precision: 'float32' | 'float16';
  /** The int8 plan (compiler/graph/quant-plan.ts): the UNet's Linear and conv weights take a byte each. */
  quant?: 'float' | 'int8';
  /** The UNet's conv plan (compiler/graph/conv-plan.ts): Winograd kernels take 4× their 3×3 kernels' bytes. */
  conv?: ConvPlan;
}

/**
 * Bytes of a component's compiled weights (the UNet graph carries the motion module too); with `quant` 'int8' the
 * UNet's Linear and conv weights count one byte each (their scales are a few KB); with the winograd conv plan (and
 * float layers) the 3×3 kernels it takes count 4×.
 */
export function weightBytes(source: ModelSource, component: Component, target: WeightTarget): number {
  const w = source.weights;
  const { precision, quant } = target;
  if (component === 'unet' && quant === 'int8') {
    const [a, b] = [unetInt8Split(w.unet), unetInt8Split(w.motion)];
    return a.int8 + b.int8 + (a.float + b.float) * (precision === 'float16' ? 2 : 4);
  }
  const winograd = component === 'unet' && target.conv === 'winograd' ? unetWinogradExtra(w.unet) : 0;
  const n =
    component === 'unet'
      ? weightElements(w.unet) + weightElements(w.motion) + winograd
      : component === 'vae_encoder'
        ? weightElements(w.vae)
        : component === 'img_encoder'
          ? (w.img_encoder ? weightElements(w.img_encoder) : 0)
          : weightElements(w[component]);
  return n * (precision === 'float16' ? 2 : 4);
}
