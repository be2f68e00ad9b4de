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

/** Bytes of a component's compiled weights in `precision` (the UNet graph carries the motion module too). */
export function weightBytes(source: ModelSource, component: Component, precision: 'float32' | 'float16'): number {
  const w = source.weights;
  const n =
    component === 'unet'
      ? weightElements(w.unet) + weightElements(w.motion)
      : component === 'vae_encoder'
        ? weightElements(w.vae)
        : component === 'img_encoder'
          ? (w.img_encoder ? weightElements(w.img_encoder) : 0)
          : weightElements(w[component]);
  return n * (precision === 'float16' ? 2 : 4);
}
