import type { ClipTextConfig, MotionConfig, UNetConfig, VaeConfig } from './configs';

/**
 * Every parameter (canonical diffusers name → shape) that a configuration implies. The inverse of detection:
 * used to make random-weight models of any size (the starter model, benches at full SD1.5 size, tests of
 * configurations the fixtures do not contain) and checked against the full-size manifests.
 */
export type ShapeMap = Map<string, number[]>;

function resnet(m: ShapeMap, p: string, cin: number, cout: number, temb: number | null): void {
  m.set(`${p}.norm1.weight`, [cin]);
  m.set(`${p}.norm1.bias`, [cin]);
  m.set(`${p}.conv1.weight`, [cout, cin, 3, 3]);
  m.set(`${p}.conv1.bias`, [cout]);
  if (temb !== null) {
    m.set(`${p}.time_emb_proj.weight`, [cout, temb]);
    m.set(`${p}.time_emb_proj.bias`, [cout]);
  }
  m.set(`${p}.norm2.weight`, [cout]);
  m.set(`${p}.norm2.bias`, [cout]);
  m.set(`${p}.conv2.weight`, [cout, cout, 3, 3]);
  m.set(`${p}.conv2.bias`, [cout]);
  if (cin !== cout) {
    m.set(`${p}.conv_shortcut.weight`, [cout, cin, 1, 1]);
    m.set(`${p}.conv_shortcut.bias`, [cout]);
  }
}

function linear(m: ShapeMap, p: string, cin: number, cout: number, bias = true): void {
  m.set(`${p}.weight`, [cout, cin]);
  if (bias) m.set(`${p}.bias`, [cout]);
}

function norm(m: ShapeMap, p: string, c: number): void {
  m.set(`${p}.weight`, [c]);
  m.set(`${p}.bias`, [c]);
}

function attention(m: ShapeMap, p: string, c: number, ctx: number): void {
  linear(m, `${p}.to_q`, c, c, false);
  linear(m, `${p}.to_k`, ctx, c, false);
  linear(m, `${p}.to_v`, ctx, c, false);
  linear(m, `${p}.to_out.0`, c, c);
}

function feedForward(m: ShapeMap, p: string, c: number): void {
  linear(m, `${p}.net.0.proj`, c, 8 * c);
  linear(m, `${p}.net.2`, 4 * c, c);
}

function transformer2d(m: ShapeMap, p: string, c: number, ctx: number, depth: number, linearProj: boolean): void {
  norm(m, `${p}.norm`, c);
  const proj = (name: string): void => {
    m.set(`${p}.${name}.weight`, linearProj ? [c, c] : [c, c, 1, 1]);
    m.set(`${p}.${name}.bias`, [c]);
  };
  proj('proj_in');
  for (let t = 0; t < depth; t++) {
    const b = `${p}.transformer_blocks.${t}`;
    norm(m, `${b}.norm1`, c);
    attention(m, `${b}.attn1`, c, c);
    norm(m, `${b}.norm2`, c);
    attention(m, `${b}.attn2`, c, ctx);
    norm(m, `${b}.norm3`, c);
    feedForward(m, `${b}.ff`, c);
  }
  proj('proj_out');
}

export function unetParameterShapes(cfg: UNetConfig): ShapeMap {
  const m: ShapeMap = new Map();
  const ch = cfg.block_out_channels;
  const temb = 4 * ch[0];
  const depth = cfg.transformer_layers_per_block;
  const ctx = cfg.cross_attention_dim;
  m.set('conv_in.weight', [ch[0], cfg.in_channels, 3, 3]);
  m.set('conv_in.bias', [ch[0]]);
  linear(m, 'time_embedding.linear_1', ch[0], temb);
  linear(m, 'time_embedding.linear_2', temb, temb);
  let out = ch[0];
  cfg.down_block_types.forEach((type, i) => {
    const cin = out;
    out = ch[i];
    for (let j = 0; j < cfg.layers_per_block; j++) {
      resnet(m, `down_blocks.${i}.resnets.${j}`, j === 0 ? cin : out, out, temb);
      if (type.startsWith('CrossAttn')) transformer2d(m, `down_blocks.${i}.attentions.${j}`, out, ctx, depth, cfg.use_linear_projection);
    }
    if (i < ch.length - 1) {
      m.set(`down_blocks.${i}.downsamplers.0.conv.weight`, [out, out, 3, 3]);
      m.set(`down_blocks.${i}.downsamplers.0.conv.bias`, [out]);
    }
  });
  const last = ch[ch.length - 1];
  if (cfg.mid_block_type !== null) {
    resnet(m, 'mid_block.resnets.0', last, last, temb);
    transformer2d(m, 'mid_block.attentions.0', last, ctx, depth, cfg.use_linear_projection);
    resnet(m, 'mid_block.resnets.1', last, last, temb);
  }
  const rev = [...ch].reverse();
  let outCh = rev[0];
  cfg.up_block_types.forEach((type, i) => {
    const prev = outCh;
    outCh = rev[i];
    const inCh = rev[Math.min(i + 1, ch.length - 1)];
    const layers = cfg.layers_per_block + 1;
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? inCh : outCh;
      const rin = j === 0 ? prev : outCh;
      resnet(m, `up_blocks.${i}.resnets.${j}`, rin + skip, outCh, temb);
      if (type.startsWith('CrossAttn')) transformer2d(m, `up_blocks.${i}.attentions.${j}`, outCh, ctx, depth, cfg.use_linear_projection);
    }
    if (i < ch.length - 1) {
      m.set(`up_blocks.${i}.upsamplers.0.conv.weight`, [outCh, outCh, 3, 3]);
      m.set(`up_blocks.${i}.upsamplers.0.conv.bias`, [outCh]);
    }
  });
  norm(m, 'conv_norm_out', ch[0]);
  m.set('conv_out.weight', [cfg.out_channels, ch[0], 3, 3]);
  m.set('conv_out.bias', [cfg.out_channels]);
  return m;
}

function motionModule(m: ShapeMap, p: string, c: number, depth: number): void {
  norm(m, `${p}.norm`, c);
  linear(m, `${p}.proj_in`, c, c);
  for (let t = 0; t < depth; t++) {
    const b = `${p}.transformer_blocks.${t}`;
    norm(m, `${b}.norm1`, c);
    attention(m, `${b}.attn1`, c, c);
    norm(m, `${b}.norm2`, c);
    attention(m, `${b}.attn2`, c, c);
    norm(m, `${b}.norm3`, c);
    feedForward(m, `${b}.ff`, c);
  }
  linear(m, `${p}.proj_out`, c, c);
}

/** MotionAdapter parameters (no positional-encoding buffers: those are computed, never loaded). */
export function motionParameterShapes(cfg: MotionConfig): ShapeMap {
  const m: ShapeMap = new Map();
  const ch = cfg.block_out_channels;
  const depth = cfg.motion_transformer_layers_per_block;
  ch.forEach((c, i) => {
    for (let j = 0; j < cfg.motion_layers_per_block; j++) motionModule(m, `down_blocks.${i}.motion_modules.${j}`, c, depth);
  });
  if (cfg.use_motion_mid_block) {
    for (let j = 0; j < cfg.motion_mid_block_layers_per_block; j++) motionModule(m, `mid_block.motion_modules.${j}`, ch[ch.length - 1], depth);
  }
  [...ch].reverse().forEach((c, i) => {
    for (let j = 0; j < cfg.motion_layers_per_block + 1; j++) motionModule(m, `up_blocks.${i}.motion_modules.${j}`, c, depth);
  });
  return m;
}

function vaeMid(m: ShapeMap, p: string, c: number, attn: boolean): void {
  resnet(m, `${p}.resnets.0`, c, c, null);
  if (attn) {
    norm(m, `${p}.attentions.0.group_norm`, c);
    for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(m, `${p}.attentions.0.${n}`, c, c);
  }
  resnet(m, `${p}.resnets.1`, c, c, null);
}

export function vaeParameterShapes(cfg: VaeConfig): ShapeMap {
  const m: ShapeMap = new Map();
  const ch = cfg.block_out_channels;
  const last = ch[ch.length - 1];
  const L = cfg.latent_channels;
  m.set('encoder.conv_in.weight', [ch[0], cfg.in_channels, 3, 3]);
  m.set('encoder.conv_in.bias', [ch[0]]);
  let out = ch[0];
  ch.forEach((c, i) => {
    const cin = out;
    out = c;
    for (let j = 0; j < cfg.layers_per_block; j++) resnet(m, `encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? cin : out, out, null);
    if (i < ch.length - 1) {
      m.set(`encoder.down_blocks.${i}.downsamplers.0.conv.weight`, [out, out, 3, 3]);
      m.set(`encoder.down_blocks.${i}.downsamplers.0.conv.bias`, [out]);
    }
  });
  vaeMid(m, 'encoder.mid_block', last, cfg.mid_block_add_attention);
  norm(m, 'encoder.conv_norm_out', last);
  m.set('encoder.conv_out.weight', [2 * L, last, 3, 3]);
  m.set('encoder.conv_out.bias', [2 * L]);
  if (cfg.use_quant_conv) {
    m.set('quant_conv.weight', [2 * L, 2 * L, 1, 1]);
    m.set('quant_conv.bias', [2 * L]);
  }
  if (cfg.use_post_quant_conv) {
    m.set('post_quant_conv.weight', [L, L, 1, 1]);
    m.set('post_quant_conv.bias', [L]);
  }
  m.set('decoder.conv_in.weight', [last, L, 3, 3]);
  m.set('decoder.conv_in.bias', [last]);
  vaeMid(m, 'decoder.mid_block', last, cfg.mid_block_add_attention);
  const rev = [...ch].reverse();
  let outCh = rev[0];
  rev.forEach((c, i) => {
    const prev = outCh;
    outCh = c;
    for (let j = 0; j < cfg.layers_per_block + 1; j++) resnet(m, `decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : outCh, outCh, null);
    if (i < ch.length - 1) {
      m.set(`decoder.up_blocks.${i}.upsamplers.0.conv.weight`, [outCh, outCh, 3, 3]);
      m.set(`decoder.up_blocks.${i}.upsamplers.0.conv.bias`, [outCh]);
    }
  });
  norm(m, 'decoder.conv_norm_out', ch[0]);
  m.set('decoder.conv_out.weight', [cfg.out_channels, ch[0], 3, 3]);
  m.set('decoder.conv_out.bias', [cfg.out_channels]);
  return m;
}

export function clipTextParameterShapes(cfg: ClipTextConfig): ShapeMap {
  const m: ShapeMap = new Map();
  const H = cfg.hidden_size;
  m.set('text_model.embeddings.token_embedding.weight', [cfg.vocab_size, H]);
  m.set('text_model.embeddings.position_embedding.weight', [cfg.max_position_embeddings, H]);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `text_model.encoder.layers.${l}`;
    for (const n of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) linear(m, `${p}.self_attn.${n}`, H, H);
    norm(m, `${p}.layer_norm1`, H);
    linear(m, `${p}.mlp.fc1`, H, cfg.intermediate_size);
    linear(m, `${p}.mlp.fc2`, cfg.intermediate_size, H);
    norm(m, `${p}.layer_norm2`, H);
  }
  norm(m, 'text_model.final_layer_norm', H);
  return m;
}
