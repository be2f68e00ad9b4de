import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from '../compiler/names/canonicalize';
import { openSafetensors } from '../compiler/io/safetensors';
import type { WeightSet } from '../compiler/io/tensor';

/**
 * Opens a case's weight file and maps it onto canonical (diffusers) names through the compiler's own
 * canonicaliser — for every layout, the diffusers one included — so verify proves the path the studio uses.
 * Keys the canonicaliser cannot place fail the case: a reference file must map completely.
 */
export type Component = 'text_encoder' | 'vae' | 'unet' | 'motion';

export function openCanonical(path: string, component: Component): { weights: WeightSet; layout: string; close(): void } {
  const table = openSafetensors(path);
  try {
    const c = canonicalize(table);
    if (c.unmatched.length > 0) {
      throw new Error(`${path}: ${c.unmatched.length} key(s) the canonicaliser cannot place, e.g. ${c.unmatched.slice(0, 3).join(', ')}`);
    }
    const weights = c.components[component];
    if (!weights) throw new Error(`${path} holds no ${component} weights (found: ${Object.keys(c.components).join(', ') || 'none'})`);
    return { weights, layout: c.layout, close: () => table.close() };
  } catch (e) {
    table.close();
    throw e;
  }
}

/**
 * An already-open weight set (e.g. `openWeightsFile`) in canonical names: passes through when it already is,
 * otherwise maps it through the canonicaliser. Kept for handlers written against the first version of this file.
 */
export function canonicalizeForVerify(w: WeightSet, component: Component): WeightSet {
  const table = { container: 'memory' as const, path: '<verify>', metadata: {}, names: () => w.names(), get: (n: string) => w.get(n), close: () => undefined };
  const c = canonicalize(table);
  const out = c.components[component];
  if (!out) throw new Error(`no ${component} weights found (found: ${Object.keys(c.components).join(', ') || 'none'})`);
  return out;
}

/** The weight layouts a single-component case ships: diffusers names and/or the SD single-file (LDM) names. */
export function singleFileLayouts(dir: string): Array<{ label: 'diffusers' | 'ldm'; file: string }> {
  const layouts = (
    [
      { label: 'diffusers', file: 'weights.safetensors' },
      { label: 'ldm', file: 'weights_ldm.safetensors' },
    ] as const
  ).filter((l) => existsSync(join(dir, l.file)));
  if (layouts.length === 0) throw new Error('the case has neither weights.safetensors nor weights_ldm.safetensors');
  return layouts.map((l) => ({ ...l }));
}
