import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { vaeArenaPerPixel } from '../../src/main/engine/memory/estimate';
import { WEIGHTS_FILE } from '../../src/main/compiler/compile';
import { vaeParameterShapes } from '../../src/main/compiler/families/parameter-shapes';
import { vaeTakesWinograd } from '../../src/main/compiler/families/vae';
import type { VaeConfig } from '../../src/main/compiler/families/configs';
import { noiseArray, type BenchModels } from '../model-set';
import { GiB } from '../peak-rss';
import { diffStats } from '../quality';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { probeMemory } from './full-size-common';

/**
 * `vae-conv`: the CPU's conv plans (compiler/graph/conv-plan.ts) in the full-size SD1.5 VAE decoder, random weights,
 * fp32: one frame decoded at 256² and at 512² output, every 3×3 convolution direct (one NCHWc Conv) against the
 * winograd plan (F(4×4, 3×3) on the layers vaeTakesWinograd names). Each measurement is a fresh
 * process (bench/memory-probe.ts: allocator caches of an earlier session would blur the next one's peak) that loads
 * the decoder, decodes twice (warm-up, timed) and reports its peak RSS; the plans alternate, the order swapped every
 * pair. At 256² the two decoders' outputs are also compared on identical latents (max |Δ|, relative L2). No UNet.
 */

const PAIRS_DEFAULT = 2;
/** Latent sizes: 256² and 512² output. */
const LATENTS = [32, 64] as const;

type Plan = 'direct' | 'winograd';

export const vaeConvSuite: Suite = async (ctx) => {
  const r = new Recorder('vae-conv', ctx.log);
  const plans: Record<Plan, BenchModels> = { direct: ctx.fullSize('float', 'direct'), winograd: ctx.fullSize('float', 'winograd') };
  const pairs = runsOr(ctx, PAIRS_DEFAULT);
  const source = plans.direct.source;
  for (const latent of LATENTS) {
    const px = latent * plans.direct.vaeScaleFactor;
    const paths = {} as Record<Plan, string>;
    for (const name of ['direct', 'winograd'] as const) {
      const t0 = performance.now();
      paths[name] = await plans[name].compileVae(latent, latent);
      r.fig(`${name} VAE decoder compile, ${px}²`, 's', secs(performance.now() - t0), `weights file ${(statSync(join(dirname(paths[name]), WEIGHTS_FILE)).size / GiB).toFixed(3)} GiB`);
    }
    const times: Record<Plan, number[]> = { direct: [], winograd: [] };
    const peaks: Record<Plan, number[]> = { direct: [], winograd: [] };
    for (let i = 0; i < pairs; i++) {
      const order: Plan[] = i % 2 === 0 ? ['direct', 'winograd'] : ['winograd', 'direct'];
      for (const name of order) {
        const p = await probeMemory({ model: paths[name], inputs: [{ name: 'latents', dims: [1, plans.direct.latentChannels, latent, latent] }], calls: 2 });
        times[name].push(p.callMs[1]);
        peaks[name].push(p.peakBytes);
      }
      ctx.log(`  ${px}² pair ${i + 1}/${pairs} (${order[0]} first): direct ${(times.direct[i] / 1000).toFixed(2)} s, winograd ${(times.winograd[i] / 1000).toFixed(2)} s`);
    }
    r.fig(`direct VAE decode, one frame ${px}²`, 's', times.direct.map(secs), 'second call of a fresh process');
    r.fig(`winograd VAE decode, one frame ${px}²`, 's', times.winograd.map(secs), `F(4×4, 3×3) on ${vaeWinogradCount(source.configs.vae)} layers (families/vae.ts vaeTakesWinograd)`);
    r.fig(`speed ratio direct s ÷ winograd s, ${px}² (per pair)`, '×', times.direct.map((t, j) => t / times.winograd[j]), `${pairs} alternating pairs; > 1 = winograd faster`);
    r.fig(`direct peak RSS, ${px}²`, 'GiB', peaks.direct.map((b) => b / GiB), 'fresh process: session, warm-up, call');
    r.fig(`winograd peak RSS, ${px}²`, 'GiB', peaks.winograd.map((b) => b / GiB), 'fresh process: session, warm-up, call');
    // The estimate's VAE term (engine/memory/estimate.ts arenaBytes), fp32.
    for (const name of ['direct', 'winograd'] as const) {
      const perPixel = vaeArenaPerPixel(source.configs.vae, 'decoder', { precision: 'float32', gpu: false, conv: name });
      r.fig(`${name} estimated VAE arena, ${px}²`, 'GiB', (perPixel * px * px * 4) / GiB, 'compare with peak RSS − weights file − the process base');
    }
    if (latent === LATENTS[0]) {
      const z = noiseArray(plans.direct.latentChannels * latent * latent, 7);
      const out = {} as Record<Plan, Float32Array>;
      for (const name of ['direct', 'winograd'] as const) {
        out[name] = await plans[name].decode(z, latent, latent);
        await plans[name].closeVae(latent, latent);
      }
      const d = diffStats(out.winograd, out.direct);
      r.fig(`winograd vs direct decode ${px}²: max |Δ|`, '', d.maxAbs, 'identical latents');
      r.fig(`winograd vs direct decode ${px}²: relative L2`, '', d.relL2);
    }
  }
  return r.result();
};

/** How many decoder kernels the winograd plan takes. */
function vaeWinogradCount(cfg: VaeConfig): number {
  return [...vaeParameterShapes(cfg)].filter(([name, shape]) => name.startsWith('decoder.') && name.endsWith('.weight') && vaeTakesWinograd(cfg, name, shape)).length;
}
