import type { WeightSet } from '../../compiler/io/tensor';
import { diffusersToLdmUNet, unetLayoutFromNames } from './ldm-names';
import type { LoraTargetComponent } from './types';

/**
 * Model-first key matching (ComfyUI's approach): for every weight the model actually has, list every module name
 * a LoRA file could use for it, then look the file's module names up in that map. Reverse-parsing kohya names
 * (`_` → `.`) is lossy (`to_out_0`, `ff_net_0_proj`, `transformer_blocks`), this is not.
 */
export interface ModuleTarget {
  component: LoraTargetComponent;
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

/** MotionAdapter attention Linears: `<mm>.transformer_blocks.k.attn{1,2}.{to_q,to_k,to_v,to_out.0}`. */
const MOTION_ATTN = /^(.*\.motion_modules\.\d+)\.transformer_blocks\.(\d+)\.attn([12])\.(to_q|to_k|to_v|to_out\.0)$/;

export function buildLoraKeyMap(base: { unet?: WeightSet; text_encoder?: WeightSet; motion?: WeightSet }): LoraKeyMap {
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
  if (base.motion) {
    for (const m of modulesOf(base.motion)) {
      const t: ModuleTarget = { component: 'motion', module: m };
      add(`lora_unet_${m.replace(/\./g, '_')}`, t);
      add(`unet.${m}`, t);
      add(m, t);
      const a = MOTION_ATTN.exec(m);
      if (a) {
        const p = a[4] === 'to_out.0' ? 'to_out' : a[4];
        // AnimateDiff's MotionLoRA files (v2_lora_ZoomIn.ckpt …): the original TemporalTransformer3DModel names,
        // attention_blocks.{0,1} = attn{1,2}; diffusers' converted files use the attn-procs spelling below.
        add(`${a[1]}.temporal_transformer.transformer_blocks.${a[2]}.attention_blocks.${Number(a[3]) - 1}.processor.${p}_lora`, t);
        add(`${m.slice(0, -a[4].length)}processor.${p}_lora`, t);
        add(`unet.${m.slice(0, -a[4].length)}processor.${p}_lora`, t);
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
