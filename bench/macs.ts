import type { MotionConfig, UNetConfig, VaeConfig } from '../src/main/compiler/families/configs';

/**
 * Analytic multiply-accumulate counts for the models the studio runs, walked from the config the same way the
 * graph builders walk it. Counted: every convolution, linear layer and the two attention matmuls (Q·Kᵀ and
 * scores·V). Ignored: GroupNorm/LayerNorm, softmax, activations, residual adds — all O(elements), a few per cent
 * at most. A MAC is one multiply plus one add, so FLOPs ≈ 2 × MACs.
 *
 * The counts are per *sample*: one image through the UNet, i.e. one row of the [batch·frames, C, h, w] input.
 * A UNet call with frames folded into the batch costs batch·frames × (unet + motion) MACs.
 *
 * Resolutions follow the network exactly: a stride-2 3×3 conv with padding 1 maps n → ⌈n/2⌉, and the up path
 * returns to the resolutions of the skips, so odd latent sizes count correctly.
 */

export interface UNetMacs {
  /** Spatial UNet per sample: convs, linears, attention matmuls. */
  unet: number;
  /** Of `unet`: the Q·Kᵀ and scores·V matmuls of self- and cross-attention. */
  unetAttentionScores: number;
  /** Motion modules per sample (per frame); 0 without motion. */
  motion: number;
  /** Of `motion`: the temporal Q·Kᵀ and scores·V matmuls (they grow with the frame count). */
  motionAttentionScores: number;
  /** unet + motion. */
  total: number;
}

export interface UNetMacsShape {
  latentHeight: number;
  latentWidth: number;
  /** Text tokens the cross-attention attends to (77 per prompt chunk). */
  tokens: number;
  /** Frames per video: only the temporal attention scores depend on it. Default 16. */
  frames?: number;
}

/** Time-embedding width of the SD1.5 family: 4 × block_out_channels[0]. */
function timeEmbedDim(cfg: UNetConfig): number {
  return cfg.block_out_channels[0] * 4;
}

class Counter {
  total = 0;
  scores = 0;
  conv(cin: number, cout: number, k: number, pixels: number): void {
    this.total += pixels * cin * cout * k * k;
  }
  linear(cin: number, cout: number, rows: number): void {
    this.total += rows * cin * cout;
  }
  /** Both attention matmuls for `queries` queries over `keys` keys, total head width `width`. */
  attentionScores(queries: number, keys: number, width: number): void {
    const m = 2 * queries * keys * width;
    this.total += m;
    this.scores += m;
  }
}

function resnet(c: Counter, cin: number, cout: number, pixels: number, tembDim: number): void {
  c.conv(cin, cout, 3, pixels); // conv1
  c.linear(tembDim, cout, 1); // time_emb_proj (once per sample)
  c.conv(cout, cout, 3, pixels); // conv2
  if (cin !== cout) c.conv(cin, cout, 1, pixels); // conv_shortcut
}

/** diffusers Transformer2DModel with BasicTransformerBlocks (self-attn, cross-attn, GEGLU feed-forward). */
function spatialTransformer(c: Counter, ch: number, pixels: number, tokens: number, crossDim: number, depth: number): void {
  c.linear(ch, ch, pixels); // proj_in (1×1 conv or linear: same count)
  for (let l = 0; l < depth; l++) {
    c.linear(ch, ch, 4 * pixels); // attn1 q, k, v, out
    c.attentionScores(pixels, pixels, ch);
    c.linear(ch, ch, 2 * pixels); // attn2 q, out
    c.linear(crossDim, ch, 2 * tokens); // attn2 k, v on the text tokens
    c.attentionScores(pixels, tokens, ch);
    c.linear(ch, 8 * ch, pixels); // ff.net.0 (GEGLU projection to 2 × 4C)
    c.linear(4 * ch, ch, pixels); // ff.net.2
  }
  c.linear(ch, ch, pixels); // proj_out
}

/** One AnimateDiff motion module, per frame: each pixel's sequence of `frames` tokens, two temporal self-attentions. */
function motionModule(c: Counter, ch: number, pixels: number, frames: number, depth: number): void {
  c.linear(ch, ch, pixels); // proj_in
  for (let l = 0; l < depth; l++) {
    for (let a = 0; a < 2; a++) {
      c.linear(ch, ch, 4 * pixels);
      // per pixel, F queries × F keys per video, i.e. F keys per query per frame
      c.attentionScores(pixels, frames, ch);
    }
    c.linear(ch, 8 * ch, pixels);
    c.linear(4 * ch, ch, pixels);
  }
  c.linear(ch, ch, pixels); // proj_out
}

const half = (n: number): number => Math.ceil(n / 2);

/**
 * Time embedding, conv_in, the down path and the mid block into `u` (spatial) and `m` (motion): the part a UNet and
 * a ControlNet share. Returns the skips (channels and resolution, for the up path or a ControlNet's zero convs)
 * and where the mid block ends.
 */
function encoderPass(u: Counter, m: Counter, cfg: UNetConfig, motion: MotionConfig | undefined, shape: UNetMacsShape): { skips: Array<{ ch: number; h: number; w: number }>; ch: number; h: number; w: number } {
  const frames = shape.frames ?? 16;
  const boc = cfg.block_out_channels;
  const n = boc.length;
  const temb = timeEmbedDim(cfg);
  const tDepth = cfg.transformer_layers_per_block;
  const mDepth = motion?.motion_transformer_layers_per_block ?? 1;

  // time embedding MLP (once per sample)
  u.linear(boc[0], temb, 1);
  u.linear(temb, temb, 1);

  let h = shape.latentHeight;
  let w = shape.latentWidth;
  u.conv(cfg.in_channels, boc[0], 3, h * w); // conv_in

  // Down path. `skips` records each skip's channels and resolution for the up path.
  const skips: Array<{ ch: number; h: number; w: number }> = [{ ch: boc[0], h, w }];
  let ch = boc[0];
  for (let i = 0; i < n; i++) {
    const out = boc[i];
    const cross = cfg.down_block_types[i].startsWith('CrossAttn');
    for (let j = 0; j < cfg.layers_per_block; j++) {
      resnet(u, ch, out, h * w, temb);
      ch = out;
      if (cross) spatialTransformer(u, ch, h * w, shape.tokens, cfg.cross_attention_dim, tDepth);
      if (motion) motionModule(m, ch, h * w, frames, mDepth);
      skips.push({ ch, h, w });
    }
    if (i < n - 1) {
      h = half(h);
      w = half(w);
      u.conv(ch, ch, 3, h * w); // downsampler, evaluated at the output resolution
      skips.push({ ch, h, w });
    }
  }

  // Mid block
  if (cfg.mid_block_type !== null) {
    resnet(u, ch, ch, h * w, temb);
    spatialTransformer(u, ch, h * w, shape.tokens, cfg.cross_attention_dim, tDepth);
    if (motion?.use_motion_mid_block) {
      for (let k = 0; k < motion.motion_mid_block_layers_per_block; k++) motionModule(m, ch, h * w, frames, mDepth);
    }
    resnet(u, ch, ch, h * w, temb);
  }
  return { skips, ch, h, w };
}

export function unetMacs(cfg: UNetConfig, motion: MotionConfig | undefined, shape: UNetMacsShape): UNetMacs {
  const frames = shape.frames ?? 16;
  const u = new Counter();
  const m = new Counter();
  const boc = cfg.block_out_channels;
  const n = boc.length;
  const temb = timeEmbedDim(cfg);
  const tDepth = cfg.transformer_layers_per_block;
  const mDepth = motion?.motion_transformer_layers_per_block ?? 1;
  const enc = encoderPass(u, m, cfg, motion, shape);
  const skips = enc.skips;
  let { ch, h, w } = enc;

  // Up path: layers_per_block + 1 resnets per block, each eating one skip.
  const rev = [...boc].reverse();
  for (let i = 0; i < n; i++) {
    const out = rev[i];
    const cross = cfg.up_block_types[i].startsWith('CrossAttn');
    for (let j = 0; j < cfg.layers_per_block + 1; j++) {
      const skip = skips.pop();
      if (!skip) throw new Error('unetMacs: the up path has more resnets than the down path has skips');
      resnet(u, ch + skip.ch, out, h * w, temb);
      ch = out;
      if (cross) spatialTransformer(u, ch, h * w, shape.tokens, cfg.cross_attention_dim, tDepth);
      if (motion) motionModule(m, ch, h * w, frames, mDepth);
    }
    if (i < n - 1) {
      const next = skips[skips.length - 1];
      h = next.h;
      w = next.w;
      u.conv(ch, ch, 3, h * w); // upsampler conv after nearest 2× resize
    }
  }
  if (skips.length !== 0) throw new Error(`unetMacs: ${skips.length} skip connections left unused`);
  u.conv(boc[0], cfg.out_channels, 3, h * w); // conv_out

  return { unet: u.total, unetAttentionScores: u.scores, motion: m.total, motionAttentionScores: m.scores, total: u.total + m.total };
}

/**
 * An SD1.5 ControlNet per sample (one control image): the UNet's encoder without motion modules (time embedding,
 * conv_in, down path, mid block), the hint block on the control image (`hint` channels; 3×3 convs, a stride-2 one
 * into each channel step, so the image is 2^(steps) × the latent; conv_out to block_out_channels[0]) and a 1×1
 * zero conv per skip feature and for the mid block.
 */
/** The UNet's encoder per sample without motion (time embedding, conv_in, down path, mid block): a ControlNet's trunk. */
export function unetEncoderMacs(cfg: UNetConfig, shape: UNetMacsShape): number {
  const u = new Counter();
  encoderPass(u, new Counter(), cfg, undefined, shape);
  return u.total;
}

export function controlNetMacs(cfg: UNetConfig, shape: UNetMacsShape, hint: readonly number[] = [16, 32, 96, 256]): number {
  const u = new Counter();
  const enc = encoderPass(u, new Counter(), cfg, undefined, shape);
  const f = 2 ** (hint.length - 1);
  let [h, w] = [shape.latentHeight * f, shape.latentWidth * f];
  u.conv(3, hint[0], 3, h * w); // conv_in
  for (let i = 0; i < hint.length - 1; i++) {
    u.conv(hint[i], hint[i], 3, h * w);
    [h, w] = [half(h), half(w)];
    u.conv(hint[i], hint[i + 1], 3, h * w); // stride 2, at the output resolution
  }
  u.conv(hint[hint.length - 1], cfg.block_out_channels[0], 3, h * w); // conv_out
  for (const s of enc.skips) u.conv(s.ch, s.ch, 1, s.h * s.w);
  u.conv(enc.ch, enc.ch, 1, enc.h * enc.w);
  return u.total;
}

/** MACs of one UNet call: `batch` videos × `frames` frames (frames folded into the batch). */
export function unetCallMacs(cfg: UNetConfig, motion: MotionConfig | undefined, call: { batch: number; frames: number; latentHeight: number; latentWidth: number; tokens: number }): number {
  const per = unetMacs(cfg, motion, { ...call });
  return call.batch * call.frames * per.total;
}

/** AutoencoderKL decoder, one frame: post_quant_conv, conv_in, mid (resnet, single-head attention, resnet), up blocks, conv_out. */
export function vaeDecoderMacs(cfg: VaeConfig, latent: { latentHeight: number; latentWidth: number }): number {
  const c = new Counter();
  let h = latent.latentHeight;
  let w = latent.latentWidth;
  const rev = [...cfg.block_out_channels].reverse();
  const z = cfg.latent_channels;
  if (cfg.use_post_quant_conv) c.conv(z, z, 1, h * w);
  let ch = rev[0];
  c.conv(z, ch, 3, h * w);
  const res = (cin: number, cout: number): void => {
    c.conv(cin, cout, 3, h * w);
    c.conv(cout, cout, 3, h * w);
    if (cin !== cout) c.conv(cin, cout, 1, h * w);
  };
  res(ch, ch);
  if (cfg.mid_block_add_attention) {
    c.linear(ch, ch, 4 * h * w);
    c.attentionScores(h * w, h * w, ch);
  }
  res(ch, ch);
  for (let i = 0; i < rev.length; i++) {
    for (let j = 0; j < cfg.layers_per_block + 1; j++) {
      res(ch, rev[i]);
      ch = rev[i];
    }
    if (i < rev.length - 1) {
      h *= 2;
      w *= 2;
      c.conv(ch, ch, 3, h * w);
    }
  }
  c.conv(ch, cfg.out_channels, 3, h * w);
  return c.total;
}
