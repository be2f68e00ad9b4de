import type { WeightSet } from '../../compiler/io/tensor';
import { diffusersToLdmUNet, unetLayoutFromNames } from './ldm-names';
import type { LoraComponent } from './types';

/**
 * Model-first key matching (ComfyUI's approach): for every weight the model actually has, list every module name
 * a LoRA file could use for it, then look the file's module names up in that map. Reverse-parsing kohya names
 * (`_` → `.`) is lossy (`to_out_0`, `ff_net_0_proj`, `transformer_blocks`), this is not.
 */
export interface ModuleTarget {
  component: LoraComponent;
  /** Canonical module path, without `.weight` / `.bias`. */
  module: string;
}

export type LoraKeyMap = Map<string, ModuleTarget>;

const ATTN_PROC = /^(.*)\.(to_q|to_k|to_v|to_out\.0)$/;

function modulesOf(weights: WeightSet): string[] {
  const out: string[] = [];
  for (const n of weights.names()) if (n.endsWith('.weight')) out.push(n.slice(0, -'.weight'.length));
  return out;
}

export function buildLoraKeyMap(base: { unet?: WeightSet; text_encoder?: WeightSet }): LoraKeyMap {
  const map: LoraKeyMap = new Map();
  const add = (name: string, t: ModuleTarget): void => {
    if (!map.has(name)) map.set(name, t);
  };
  if (base.unet) {
    const names = base.unet.names();
    const layout = unetLayoutFromNames(names);
    for (const m of modulesOf(base.unet)) {
      const t: ModuleTarget = { component: 'unet', module: m };
      add(`lora_unet_${m.replace(/\./g, '_')}`, t); // kohya, diffusers block names (LyCORIS too)
      add(`unet.${m}`, t); // PEFT (`.lora_A.weight`)
      add(`unet.${m}.lora`, t); // diffusers LoRALinearLayer (`.lora.down.weight`)
      add(m, t); // PEFT without a component prefix
      const ldm = diffusersToLdmUNet(m, layout);
      if (ldm !== undefined) {
        add(`lora_unet_${ldm.replace(/\./g, '_')}`, t); // kohya with LDM block names
        add(`diffusion_model.${ldm}`, t);
        add(`model.diffusion_model.${ldm}`, t);
      }
      const ap = ATTN_PROC.exec(m);
      if (ap) {
        // diffusers ≤ 0.16 save_attn_procs: `…attn1.processor.to_q_lora.down.weight`; to_out_lora → to_out.0.
        const proc = `${ap[1]}.processor.${ap[2] === 'to_out.0' ? 'to_out' : ap[2]}_lora`;
        add(proc, t);
        add(`unet.${proc}`, t);
      }
    }
  }
  if (base.text_encoder) {
    for (const m of modulesOf(base.text_encoder)) {
      const t: ModuleTarget = { component: 'text_encoder', module: m };
      add(`lora_te_${m.replace(/\./g, '_')}`, t);
      add(`text_encoder.${m}`, t);
      add(`text_encoder.${m}.lora`, t);
      // diffusers' old text-encoder attn-proc spelling: `text_encoder.…self_attn.to_q_lora.down.weight`
      const te = /^(.*\.self_attn)\.(q|k|v|out)_proj$/.exec(m);
      if (te) add(`text_encoder.${te[1]}.to_${te[2]}_lora`, t);
    }
  }
  return map;
}
