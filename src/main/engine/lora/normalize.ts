import type { TensorTable, TensorView, WeightSet } from '../../compiler/io/tensor';
import { checkLoraFamily } from './family';
import { ATTN_PROC_SUFFIXES, attnProcDeltas, isAttnProc } from './formats/attn-procs';
import { FULL_SUFFIXES, fullDiffDeltas, isFullDiff } from './formats/full-diff';
import { isKohya, KOHYA_SUFFIXES, kohyaDeltas } from './formats/kohya';
import { isLoha, LOHA_SUFFIXES, lohaDeltas } from './formats/loha';
import { isLokr, LOKR_SUFFIXES, lokrDeltas } from './formats/lokr';
import { ModuleError, type ModuleContext, type ModuleGroup } from './formats/module-group';
import { isPeft, PEFT_SUFFIXES, peftDeltas } from './formats/peft';
import { buildLoraKeyMap, type LoraKeyMap } from './keymap';
import type { LoraDelta } from './types';

/**
 * Any LoRA file → LoraDelta[] against one concrete model. Keys are split into module name + known suffix, grouped,
 * the module name is looked up in the model-first key map, and the group is handed to the format that owns its
 * suffixes. Everything that does not end up in a delta is listed in `unmatched` with the reason, so coverage
 * reports can say exactly what was skipped.
 */
export interface NormalizedLora {
  deltas: LoraDelta[];
  /** Tensor keys in the file. */
  total: number;
  /** Keys consumed by `deltas`. */
  applied: number;
  /** Keys not applied, in file order. */
  unmatched: string[];
  /** Module name → why it was not applied (`no such module in the model`, shape mismatch, unsupported part). */
  reasons: Map<string, string>;
}

/** Parts we recognise but cannot apply faithfully; their modules are reported, never half-applied. */
const UNSUPPORTED_SUFFIXES = ['dora_scale', 'lora_magnitude_vector', 'w_norm', 'b_norm', 'lokr_t1'] as const;

const SUFFIXES: readonly string[] = [
  ...new Set<string>([...KOHYA_SUFFIXES, ...PEFT_SUFFIXES, ...ATTN_PROC_SUFFIXES, ...LOHA_SUFFIXES, ...LOKR_SUFFIXES, ...FULL_SUFFIXES, ...UNSUPPORTED_SUFFIXES]),
].sort((a, b) => b.length - a.length);

export function splitLoraKey(key: string): { module: string; suffix: string } | undefined {
  for (const s of SUFFIXES) {
    if (key.length > s.length + 1 && key.endsWith(s) && key[key.length - s.length - 1] === '.') {
      return { module: key.slice(0, key.length - s.length - 1), suffix: s };
    }
  }
  return undefined;
}

export function groupLoraKeys(table: TensorTable): { groups: ModuleGroup[]; loose: string[] } {
  const byModule = new Map<string, Map<string, TensorView>>();
  const loose: string[] = [];
  for (const key of table.names()) {
    const split = splitLoraKey(key);
    const view = table.get(key);
    if (!split || !view) {
      loose.push(key);
      continue;
    }
    let g = byModule.get(split.module);
    if (!g) byModule.set(split.module, (g = new Map()));
    g.set(split.suffix, view);
  }
  return { groups: [...byModule].map(([name, tensors]) => ({ name, tensors })), loose };
}

function deltasFor(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  for (const s of UNSUPPORTED_SUFFIXES) {
    if (g.tensors.has(s)) throw new ModuleError(`${g.name}: "${s}" (${s === 'dora_scale' || s === 'lora_magnitude_vector' ? 'DoRA' : 'an extension'}) is not supported yet`);
  }
  if (isLoha(g)) return lohaDeltas(g, ctx);
  if (isLokr(g)) return lokrDeltas(g, ctx);
  if (isKohya(g)) return kohyaDeltas(g, ctx);
  if (isPeft(g)) return peftDeltas(g, ctx);
  if (isAttnProc(g)) return attnProcDeltas(g, ctx);
  if (isFullDiff(g)) return fullDiffDeltas(g, ctx);
  throw new ModuleError(`${g.name}: only ${[...g.tensors.keys()].join(', ')}, no weights to apply`);
}

export function normalizeLora(table: TensorTable, base: { unet?: WeightSet; text_encoder?: WeightSet; motion?: WeightSet }, keyMap: LoraKeyMap = buildLoraKeyMap(base), opts: { fixedScale?: number } = {}): NormalizedLora {
  checkLoraFamily(table, base);
  const { groups, loose } = groupLoraKeys(table);
  const deltas: LoraDelta[] = [];
  const reasons = new Map<string, string>();
  const unmatchedSet = new Set<string>(loose);
  for (const k of loose) reasons.set(k, 'not a LoRA tensor name this studio knows');
  for (const g of groups) {
    const target = keyMap.get(g.name);
    const keys = [...g.tensors.values()].map((v) => v.name);
    if (!target) {
      reasons.set(g.name, 'no such module in this model');
      for (const k of keys) unmatchedSet.add(k);
      continue;
    }
    const weights = base[target.component];
    const w = weights?.get(`${target.module}.weight`);
    if (!w) {
      reasons.set(g.name, 'no such module in this model');
      for (const k of keys) unmatchedSet.add(k);
      continue;
    }
    const ctx: ModuleContext = {
      component: target.component,
      module: target.module,
      weightShape: w.shape,
      biasShape: weights?.get(`${target.module}.bias`)?.shape,
      metadata: table.metadata,
      ...(opts.fixedScale !== undefined ? { fixedScale: opts.fixedScale } : {}),
    };
    try {
      deltas.push(...deltasFor(g, ctx));
    } catch (e) {
      if (!(e instanceof ModuleError)) throw e;
      reasons.set(g.name, e.message);
      for (const k of keys) unmatchedSet.add(k);
    }
  }
  const all = table.names();
  const unmatched = all.filter((k) => unmatchedSet.has(k));
  return { deltas, total: all.length, applied: all.length - unmatched.length, unmatched, reasons };
}
