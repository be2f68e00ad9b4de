import { StudioError } from '../../../shared/errors';
import { detectLora } from '../../compiler/families/lora-detect';
import type { TensorTable, WeightSet } from '../../compiler/io/tensor';

/**
 * Refuse LoRAs made for another model family before any key matching, because SDXL and SD1 LDM names overlap
 * (`input_blocks_4_1_transformer_blocks_0_…` exists in both) and a half-matched SDXL LoRA would silently damage
 * the model. Evidence, strongest first: SDXL-only prefixes (`lora_te1_`/`lora_te2_`, `text_encoder_2.`), kohya /
 * ModelSpec metadata, then the cross-attention width the LoRA's attn2 to_k/to_v factors expect (768 SD1.x,
 * 1024 SD2.x, 2048 SDXL, 1280 SDXL refiner) against the model's own width — measured, not assumed, so tiny test
 * models with other widths work too.
 */
export type LoraFamily = 'sd1' | 'sd2' | 'sdxl' | 'sdxl_refiner' | 'unknown';

const FAMILY_NAME: Record<LoraFamily, string> = {
  sd1: 'Stable Diffusion 1.x',
  sd2: 'Stable Diffusion 2.x',
  sdxl: 'SDXL',
  sdxl_refiner: 'the SDXL refiner',
  unknown: 'a different model',
};

function familyForContextWidth(w: number): LoraFamily {
  if (w === 768) return 'sd1';
  if (w === 1024) return 'sd2';
  if (w === 2048) return 'sdxl';
  if (w === 1280) return 'sdxl_refiner';
  return 'unknown';
}

function refuse(table: TensorTable, family: LoraFamily, evidence: string): StudioError {
  const file = table.path.split(/[\\/]/).pop() ?? table.path;
  return new StudioError(
    'LORA_INCOMPATIBLE',
    `${file} is a LoRA for ${FAMILY_NAME[family]}; AnimateLCM needs LoRAs made for Stable Diffusion 1.5. Pick an SD1.5 version of this LoRA.`,
    { path: table.path, family, evidence },
  );
}

/** Input width (the last factor dimension before any kernel) of a LoRA module's "down" side, if it has one. */
function downInWidth(table: TensorTable, module: string): number | undefined {
  for (const s of ['lora_down.weight', 'lora_A.weight', 'down.weight', 'hada_w1_b', 'lokr_w2_b', 'lokr_w2', 'diff']) {
    const v = table.get(`${module}.${s}`);
    if (v && v.shape.length >= 2) {
      if (s.startsWith('lokr')) return undefined; // Kronecker factors carry only part of the width
      return v.shape[1];
    }
  }
  return undefined;
}

function modelContextWidth(unet: WeightSet | undefined): number | undefined {
  if (!unet) return undefined;
  for (const n of unet.names()) {
    if (/\.attn2\.to_k\.weight$/.test(n)) return unet.get(n)?.shape[1];
  }
  return undefined;
}

export function checkLoraFamily(table: TensorTable, base: { unet?: WeightSet; text_encoder?: WeightSet }): void {
  const names = table.names();
  const xl = names.find((n) => n.startsWith('lora_te1_') || n.startsWith('lora_te2_') || n.startsWith('text_encoder_2.') || n.startsWith('lora_unet_label_emb'));
  if (xl) throw refuse(table, 'sdxl', `key ${xl}`);

  const md = table.metadata;
  const version = md.ss_base_model_version ?? '';
  if (version.startsWith('sdxl')) throw refuse(table, 'sdxl', `ss_base_model_version=${version}`);
  if (version.startsWith('sd_v2') || md.ss_v2 === 'True') throw refuse(table, 'sd2', `ss_base_model_version=${version || '?'} ss_v2=${md.ss_v2 ?? '?'}`);
  const arch = md['modelspec.architecture'] ?? '';
  if (arch.startsWith('stable-diffusion-xl')) throw refuse(table, arch.includes('refiner') ? 'sdxl_refiner' : 'sdxl', `modelspec.architecture=${arch}`);
  if (arch.startsWith('stable-diffusion-v2')) throw refuse(table, 'sd2', `modelspec.architecture=${arch}`);

  // The library's detector (same rules the LoRA library shows), then the model-relative width check below.
  const detected = detectLora(table)?.base;
  if (detected === 'sdxl' || detected === 'sd2') throw refuse(table, detected, 'key names / widths (compiler/families/lora-detect)');

  const ctx = modelContextWidth(base.unet);
  if (ctx === undefined) return;
  const seen = new Set<string>();
  for (const n of names) {
    const m = /^(.*attn2[._]to_[kv])(?:\.|_lora\.)/.exec(n) ?? /^(.*attn2[._]processor[._]to_[kv]_lora)\./.exec(n);
    // Motion modules' attn2 is temporal SELF-attention (its width is the block's channels, not the text's).
    if (!m || seen.has(m[1]) || m[1].includes('motion_modules')) continue;
    seen.add(m[1]);
    const w = downInWidth(table, m[1]);
    if (w !== undefined && w !== ctx) {
      const fam = familyForContextWidth(w);
      throw refuse(table, fam === 'sd1' ? 'unknown' : fam, `${m[1]} expects a ${w}-wide text embedding; the model's is ${ctx}`);
    }
  }
}
