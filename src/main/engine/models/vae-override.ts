import { basename } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { VaeConfig } from '../../compiler/families/configs';
import { detectModel } from '../../compiler/families/detect';
import { openModel } from '../../compiler/io/open';
import type { WeightSet } from '../../compiler/io/tensor';
import { canonicalize } from '../../compiler/names/canonicalize';

/**
 * A standalone VAE file (the original single-file layout creators download, e.g. vae-ft-mse-840000-ema-pruned,
 * with bare `encoder.`/`decoder.` keys or a `first_stage_model.` / `vae.` prefix; or a diffusers VAE) that
 * replaces the checkpoint's VAE for one generation. A standalone file carries no config, so the checkpoint's VAE
 * config stays — architecture and scaling factor (diffusers' from_single_file keeps 0.18215 for SD1.x too) — and
 * the file must fit it tensor for tensor: anything else would decode garbage or fail deep inside onnxruntime.
 */
export interface VaeOverride {
  path: string;
  /** Canonical (diffusers) names, exactly the names and shapes of the model's own VAE. */
  weights: WeightSet;
  close(): void;
}

export function openVaeOverride(path: string, expected: { weights: WeightSet; config: VaeConfig }): VaeOverride {
  const file = basename(path);
  // openModel: missing, empty, truncated, corrupt and unsafe files get their own typed errors.
  const table = openModel(path);
  try {
    const canonical = canonicalize(table);
    const vae = canonical.components.vae;
    const det = detectModel(table, canonical);
    if (!vae) {
      throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `${file} is not a VAE (it looks like: ${det.label}). Pick a VAE file such as vae-ft-mse-840000-ema-pruned.safetensors.`, {
        path,
        family: det.family,
      });
    }
    const others = Object.keys(canonical.components).filter((c) => c !== 'vae');
    if (others.length > 0) {
      throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `${file} is a full ${det.label}, not a standalone VAE. Pick a VAE file (only encoder/decoder weights).`, { path, components: others });
    }
    const latent = vae.get('decoder.conv_in.weight')?.shape[1];
    if (latent !== undefined && latent !== expected.config.latent_channels) {
      throw new StudioError(
        'MODEL_FAMILY_UNSUPPORTED',
        `${file} is a VAE with ${latent} latent channels (an SD3 / Flux-style VAE); AnimateLCM's SD1.5 models need a ${expected.config.latent_channels}-channel SD1.x VAE.`,
        { path, latentChannels: latent },
      );
    }
    const missing = expected.weights.names().filter((n) => !vae.has(n));
    if (missing.length > 0) {
      throw new StudioError('MODEL_KEYS_MISSING', `${file} lacks ${missing.length} VAE weight(s) this model needs (e.g. ${missing[0]}); it may be incomplete or for another model family.`, { path, missing: missing.slice(0, 10) });
    }
    const mismatched: string[] = [];
    for (const n of expected.weights.names()) {
      const want = expected.weights.get(n)!.shape;
      const got = vae.get(n)!.shape;
      if (!sameShape(want, got)) mismatched.push(`${n}: ${JSON.stringify(got)} (model ${JSON.stringify(want)})`);
    }
    if (mismatched.length > 0) {
      throw new StudioError('MODEL_SHAPE_MISMATCH', `${file} does not fit this model's VAE (${mismatched.length} tensor(s) of other shapes, e.g. ${mismatched[0]}). Pick an SD1.x VAE.`, {
        path,
        mismatched: mismatched.slice(0, 10),
      });
    }
    return { path, weights: restrictTo(vae, expected.weights.names()), close: () => table.close() };
  } catch (e) {
    table.close();
    throw e;
  }
}

/** Mid-attention q/k/v/proj_out stored as [C,C,1,1] kernels or [C,C] Linear weights are the same tensor. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  const trim = (s: readonly number[]): number[] => (s.length === 4 && s[2] === 1 && s[3] === 1 ? [s[0], s[1]] : [...s]);
  const x = trim(a);
  const y = trim(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Only the names the model's VAE has (extras such as `model_ema.*` leftovers never reach a graph). */
function restrictTo(w: WeightSet, names: readonly string[]): WeightSet {
  const keep = new Set(names);
  return { names: () => [...names], get: (n) => (keep.has(n) ? w.get(n) : undefined), has: (n) => keep.has(n) && w.has(n) };
}
