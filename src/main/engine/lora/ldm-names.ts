/**
 * diffusers → LDM (CompVis) spelling of SD UNet module paths, for the kohya keys that other tools write with
 * LDM block names (`lora_unet_input_blocks_1_1_…`, `…_in_layers_2`). The block indices depend on the model's
 * config (layers per block, which up blocks have attention), so the layout is read off the model's own weight
 * names rather than assuming SD1.5's 2 layers per block — the reference fixtures use 1.
 */
export interface UNetLayout {
  /** Resnets per down block (diffusers `layers_per_block`); up blocks have one more. */
  layersPerBlock: number;
  /** Up-block indices that hold attentions (their upsampler sits at position 2 instead of 1 in LDM). */
  upBlocksWithAttention: Set<number>;
}

export function unetLayoutFromNames(names: readonly string[]): UNetLayout {
  let maxDownResnet = -1;
  const withAttn = new Set<number>();
  for (const n of names) {
    const d = /^down_blocks\.0\.resnets\.(\d+)\./.exec(n);
    if (d) maxDownResnet = Math.max(maxDownResnet, Number(d[1]));
    const u = /^up_blocks\.(\d+)\.attentions\./.exec(n);
    if (u) withAttn.add(Number(u[1]));
  }
  return { layersPerBlock: Math.max(1, maxDownResnet + 1), upBlocksWithAttention: withAttn };
}

const RESNET_RENAMES: Record<string, string> = {
  norm1: 'in_layers.0',
  conv1: 'in_layers.2',
  time_emb_proj: 'emb_layers.1',
  norm2: 'out_layers.0',
  conv2: 'out_layers.3',
  conv_shortcut: 'skip_connection',
};

function resnetTail(rest: string): string {
  const dot = rest.indexOf('.');
  const head = dot < 0 ? rest : rest.slice(0, dot);
  const renamed = RESNET_RENAMES[head];
  if (renamed === undefined) return rest;
  return dot < 0 ? renamed : renamed + rest.slice(dot);
}

/** LDM module path for a diffusers UNet module path (no `.weight`), or undefined when it has no LDM twin. */
export function diffusersToLdmUNet(path: string, layout: UNetLayout): string | undefined {
  const L = layout.layersPerBlock;
  let m: RegExpExecArray | null;
  if (path === 'time_embedding.linear_1') return 'time_embed.0';
  if (path === 'time_embedding.linear_2') return 'time_embed.2';
  if (path === 'conv_in') return 'input_blocks.0.0';
  if (path === 'conv_norm_out') return 'out.0';
  if (path === 'conv_out') return 'out.2';
  if ((m = /^down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(path))) {
    return `input_blocks.${1 + Number(m[1]) * (L + 1) + Number(m[2])}.0.${resnetTail(m[3])}`;
  }
  if ((m = /^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(path))) {
    return `input_blocks.${1 + Number(m[1]) * (L + 1) + Number(m[2])}.1.${m[3]}`;
  }
  if ((m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv$/.exec(path))) {
    return `input_blocks.${(Number(m[1]) + 1) * (L + 1)}.0.op`;
  }
  if ((m = /^mid_block\.resnets\.([01])\.(.+)$/.exec(path))) {
    return `middle_block.${m[1] === '0' ? 0 : 2}.${resnetTail(m[2])}`;
  }
  if ((m = /^mid_block\.attentions\.0\.(.+)$/.exec(path))) return `middle_block.1.${m[1]}`;
  if ((m = /^up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(path))) {
    return `output_blocks.${Number(m[1]) * (L + 1) + Number(m[2])}.0.${resnetTail(m[3])}`;
  }
  if ((m = /^up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(path))) {
    return `output_blocks.${Number(m[1]) * (L + 1) + Number(m[2])}.1.${m[3]}`;
  }
  if ((m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv$/.exec(path))) {
    const i = Number(m[1]);
    return `output_blocks.${i * (L + 1) + L}.${layout.upBlocksWithAttention.has(i) ? 2 : 1}.conv`;
  }
  return undefined;
}
