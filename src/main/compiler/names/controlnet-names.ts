import { StudioError } from '../../../shared/errors';
import type { TensorTable, WeightSet } from '../io/tensor';
import { CanonicalWeights, canonicalize, renamed } from './canonicalize';

/**
 * ControlNet files onto diffusers `ControlNetModel` names. Two layouts exist in the wild:
 *  * diffusers (`diffusion_pytorch_model.safetensors` of lllyasviel/control_v11p_sd15_*): the names already;
 *  * the original ControlNet v1.1 single file (`control_v11p_sd15_*.pth`, fp16 .safetensors re-saves), keys
 *    `control_model.*` or the same without the prefix: `time_embed`, `input_blocks`, `middle_block` (the UNet
 *    encoder's LDM names, mapped by the UNet rules), `zero_convs.i.0`, `middle_block_out.0`, `input_hint_block.K`.
 * v1.0 files that are whole SD checkpoints with a ControlNet inside keep only the `control_model.*` keys.
 */

const CONTROL_PREFIX = 'control_model.';
const CONTROL_MARKER = /^(control_model\.)?(input_hint_block\.\d+|zero_convs\.\d+\.0|middle_block_out\.0)\.|^controlnet_(cond_embedding|down_blocks|mid_block)\./;

/** Whether these tensor names are a ControlNet's (either layout), from names alone. */
export function looksLikeControlNet(names: readonly string[]): boolean {
  return names.some((n) => CONTROL_MARKER.test(n));
}

export interface ControlNetWeights {
  weights: WeightSet;
  layout: 'diffusers' | 'ldm';
}

/** Maps `table` (a ControlNet file in either layout) onto diffusers names; refuses keys it cannot place. */
export function canonicalizeControlNet(table: TensorTable): ControlNetWeights {
  const all = table.names();
  const prefixed = all.some((n) => n.startsWith(CONTROL_PREFIX));
  const names = prefixed ? all.filter((n) => n.startsWith(CONTROL_PREFIX)) : all;
  const local = (n: string): string => (prefixed ? n.slice(CONTROL_PREFIX.length) : n);
  const out = new CanonicalWeights();
  const put = (original: string, name: string): void => {
    const v = table.get(original);
    if (v) out.map.set(name, renamed(v, name));
  };
  const hintIdx = [...new Set(names.map((n) => /^input_hint_block\.(\d+)\./.exec(local(n))).filter((m) => m !== null).map((m) => Number(m[1])))].sort((a, b) => a - b);
  const hintName = (k: number): string => {
    const pos = hintIdx.indexOf(k);
    if (pos === 0) return 'conv_in';
    if (pos === hintIdx.length - 1) return 'conv_out';
    return `blocks.${pos - 1}`;
  };
  // Original-layout ControlNet-only parts → diffusers names; undefined = an encoder (UNet-named) key.
  const controlPart = (k: string): string | undefined => {
    let m: RegExpExecArray | null;
    if ((m = /^zero_convs\.(\d+)\.0\.(weight|bias)$/.exec(k))) return `controlnet_down_blocks.${m[1]}.${m[2]}`;
    if ((m = /^middle_block_out\.0\.(weight|bias)$/.exec(k))) return `controlnet_mid_block.${m[1]}`;
    if ((m = /^input_hint_block\.(\d+)\.(weight|bias)$/.exec(k))) return `controlnet_cond_embedding.${hintName(Number(m[1]))}.${m[2]}`;
    return undefined;
  };
  let ldm = false;
  const encoder: string[] = [];
  for (const n of names) {
    const k = local(n);
    const part = controlPart(k);
    if (/^controlnet_(cond_embedding|down_blocks|mid_block)\./.test(k)) put(n, k);
    else if (part !== undefined) {
      put(n, part);
      ldm = true;
    } else encoder.push(n);
  }
  // The encoder part is a UNet's: reuse the UNet renaming rules (LDM input_blocks/middle_block/time_embed).
  const sub: TensorTable = {
    container: 'memory',
    path: table.path,
    metadata: {},
    names: () => encoder.map(local),
    get: (k: string) => table.get(prefixed ? CONTROL_PREFIX + k : k),
    close: () => undefined,
  };
  const c = canonicalize(sub);
  const unplaced = [...c.unmatched, ...Object.entries(c.components).filter(([k]) => k !== 'unet').flatMap(([, w]) => w?.names() ?? [])];
  if (unplaced.length > 0) {
    throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `This ControlNet has ${unplaced.length} weight(s) an SD1.5 ControlNet does not have (e.g. ${unplaced.slice(0, 3).join(', ')}).`, { unplaced: unplaced.slice(0, 20) });
  }
  const unet = c.components.unet;
  for (const k of unet?.names() ?? []) {
    const v = unet?.get(k);
    if (v) out.map.set(k, renamed(v, k));
  }
  if (c.layout.includes('ldm')) ldm = true;
  return { weights: out, layout: ldm ? 'ldm' : 'diffusers' };
}
