import type { TensorTable, TensorView, WeightSet } from '../io/tensor';
import { isDiffusersName, type Component } from './grammar';
import { DROP_PATTERNS, RULES, type NameContext } from './rules';

/**
 * Every layout onto diffusers names, per component, without component prefixes:
 * routing (which component a key belongs to, by prefix table) → renaming (rules.ts) → validation (grammar.ts).
 * Nothing is read: the weight sets hand out renamed lazy views (VAE 1×1-conv attention weights are squeezed to
 * [C,C] on read, since the bytes are the same).
 */
export interface Canonical {
  /** Layouts seen, e.g. "ldm", "diffusers", "animatediff", "diffusers-folder", "ldm+diffusers". */
  layout: string;
  components: { unet?: WeightSet; vae?: WeightSet; text_encoder?: WeightSet; motion?: WeightSet; img_encoder?: WeightSet };
  /** Keys that belong to no known component or do not fit any rule (original names). */
  unmatched: string[];
  /** Keys recognised and deliberately ignored (EMA, buffers regenerated at build time). */
  dropped: string[];
}

/** Prefix → component, first match wins. `''` = bare names, routed by BARE_ROUTES. */
const PREFIX_ROUTES: Array<{ prefix: string; component: Component | 'bare'; ldm?: true }> = [
  { prefix: 'model.diffusion_model.', component: 'unet', ldm: true },
  { prefix: 'first_stage_model.', component: 'vae', ldm: true },
  { prefix: 'cond_stage_model.transformer.', component: 'text_encoder', ldm: true },
  { prefix: 'conditioner.embedders.0.transformer.', component: 'text_encoder', ldm: true },
  { prefix: 'unet.', component: 'unet' },
  { prefix: 'vae.', component: 'vae' },
  { prefix: 'text_encoder.', component: 'text_encoder' },
  { prefix: 'motion_adapter.', component: 'motion' },
  // AnimateLCM_sd15_i2v.ckpt keeps its image encoder next to the motion modules.
  { prefix: 'img_encoder.', component: 'img_encoder' },
  { prefix: '', component: 'bare' },
];

/** Bare names (component files without a prefix) → component, by their first path segments. */
const BARE_ROUTES: Array<{ re: RegExp; component: Component }> = [
  { re: /\.motion_modules\.\d+\./, component: 'motion' },
  { re: /^(text_model|embeddings|final_layer_norm)\.|^encoder\.layers\./, component: 'text_encoder' },
  { re: /^(encoder|decoder|quant_conv|post_quant_conv)\./, component: 'vae' },
  { re: /^(input_blocks|middle_block|output_blocks|time_embed|out|conv_in|conv_out|conv_norm_out|time_embedding|down_blocks|up_blocks|mid_block)\./, component: 'unet' },
];

/** Renamed, lazily squeezed views under canonical names. */
export class CanonicalWeights implements WeightSet {
  readonly map = new Map<string, TensorView>();
  /** canonical → original key, for diagnostics. */
  readonly source = new Map<string, string>();
  names(): string[] {
    return [...this.map.keys()];
  }
  get(name: string): TensorView | undefined {
    return this.map.get(name);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
}

const SQUEEZE = /^(encoder|decoder)\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

export function renamed(v: TensorView, name: string): TensorView {
  const squeeze = SQUEEZE.test(name) && v.shape.length === 4 && v.shape[2] === 1 && v.shape[3] === 1;
  return {
    name,
    dtype: v.dtype,
    shape: squeeze ? v.shape.slice(0, 2) : v.shape,
    readF32: () => v.readF32(),
    readRaw: () => v.readRaw(),
  };
}

/** The facts rules need from the whole UNet / VAE key set (block counts are never assumed). */
function contextFor(unetKeys: string[], vaeKeys: string[]): NameContext {
  const ops = unetKeys.map((k) => /^input_blocks\.(\d+)\.0\.op\./.exec(k)).filter((m) => m).map((m) => Number(m![1]));
  const ups = unetKeys.map((k) => /^output_blocks\.(\d+)\.[12]\.conv\./.exec(k)).filter((m) => m).map((m) => Number(m![1]));
  const inputs = unetKeys.map((k) => /^input_blocks\.(\d+)\./.exec(k)).filter((m) => m).map((m) => Number(m![1]));
  // Downsamplers sit at (i+1)(L+1), upsamplers at i(L+1)+L; with a single block, inputs run 1..L.
  const unetLayers = ops.length > 0 ? Math.min(...ops) - 1 : ups.length > 0 ? Math.min(...ups) : Math.max(1, ...inputs);
  const midIdx = [...new Set(unetKeys.map((k) => /^middle_block\.(\d+)\./.exec(k)).filter((m) => m).map((m) => Number(m![1])))].sort((a, b) => a - b);
  const unetMid = new Map<number, string>();
  let resnets = 0;
  let attentions = 0;
  for (const k of midIdx) {
    const isAttn = unetKeys.some((n) => n.startsWith(`middle_block.${k}.`) && /\.(transformer_blocks|proj_in)\./.test(n));
    unetMid.set(k, isAttn ? `attentions.${attentions++}` : `resnets.${resnets++}`);
  }
  const upBlocks = vaeKeys.map((k) => /^decoder\.up\.(\d+)\./.exec(k)).filter((m) => m).map((m) => Number(m![1]));
  return { unetLayers: Math.max(1, unetLayers), unetMid, vaeUpBlocks: upBlocks.length > 0 ? Math.max(...upBlocks) + 1 : 0 };
}

export function canonicalize(table: TensorTable): Canonical {
  const unmatched: string[] = [];
  const dropped: string[] = [];
  const routed: Record<Component, Array<{ original: string; local: string; ldm: boolean }>> = { unet: [], vae: [], text_encoder: [], motion: [], img_encoder: [] };

  for (const original of table.names()) {
    if (DROP_PATTERNS.some((d) => d.re.test(original))) {
      dropped.push(original);
      continue;
    }
    const route = PREFIX_ROUTES.find((r) => original.startsWith(r.prefix))!;
    const local = original.slice(route.prefix.length);
    let component: Component | undefined = route.component === 'bare' ? BARE_ROUTES.find((r) => r.re.test(local))?.component : route.component;
    // UNetMotionModel files keep motion modules inside the UNet's blocks.
    if (component === 'unet' && local.includes('.motion_modules.')) component = 'motion';
    if (!component) unmatched.push(original);
    else routed[component].push({ original, local, ldm: route.ldm === true });
  }

  const ctx = contextFor(routed.unet.map((k) => k.local), routed.vae.map((k) => k.local));
  const layouts = new Set<string>();
  const components: Canonical['components'] = {};
  for (const component of Object.keys(routed) as Component[]) {
    const keys = routed[component];
    if (keys.length === 0) continue;
    const weights = new CanonicalWeights();
    const seen = new Set<string>();
    for (const { original, local, ldm } of keys) {
      let name: string | undefined = local;
      let layout = ldm ? 'ldm' : 'diffusers';
      for (const rule of RULES[component]) {
        const m = local.match(rule.re);
        if (!m) continue;
        name = rule.to(m, ctx);
        layout = rule.layout;
        break;
      }
      const view = table.get(original);
      if (name === undefined || !view || !isDiffusersName(component, name) || weights.map.has(name)) {
        unmatched.push(original);
        continue;
      }
      seen.add(layout);
      weights.map.set(name, renamed(view, name));
      weights.source.set(name, original);
    }
    // Names that are the same in every layout (conv_in, quant_conv) say nothing about the layout.
    if (seen.size > 1) seen.delete('diffusers');
    for (const l of seen) layouts.add(l);
    if (weights.map.size > 0) components[component] = weights;
  }
  if (table.container === 'diffusers-folder') {
    layouts.delete('diffusers');
    layouts.add('diffusers-folder');
  }
  return { layout: layouts.size > 0 ? [...layouts].sort().join('+') : 'unknown', components, unmatched, dropped };
}
