import { join, resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { readNpy } from '../../compiler/io/npy';
import type { ControlResiduals } from '../../engine/control/control-residuals';
import { effectiveScales } from '../../engine/control/control-window';
import { ControlNetModel } from '../../engine/control/controlnet-model';
import { controlImageFromRgb8 } from '../../engine/control/control-frames';
import { compareArrays } from '../compare';
import { npyF32 } from '../run-graph';
import type { KindHandler, VerifyContext } from '../types';
import { runPipelineCase } from './pipeline';

/**
 * kind `pipeline_animatediff_lcm_controlnet`: AnimateDiffControlNetPipeline + LCMScheduler replayed through our
 * pipeline with ControlNet units (engine/control): everything the plain pipeline kind compares, plus the control
 * frames as the ControlNet gets them (uint8/255, [0, 1]), the keep·scale per step, every unit's mid residual at
 * every step it runs (and that steps outside the window do not run it: the reference residuals there are zeros),
 * and all residuals at `full_residual_step`. Each unit runs from its diffusers file; the ldm file of the first unit
 * is replayed too and must give the same frames.
 */

interface UnitFiles {
  weights: string;
  weights_ldm?: string;
  conditioning_scale: number;
  control_guidance_start: number;
  control_guidance_end: number;
  conditioning_frames_uint8: string;
  conditioning_frames: string;
  effective_scale_per_step: number[];
  step_mid_residuals: string;
  full_residual_step: number;
}

export const pipelineControlNetHandler: KindHandler = {
  kind: 'pipeline_animatediff_lcm_controlnet',
  async run(ctx) {
    const units = ctx.files.controlnets as UnitFiles[] | undefined;
    if (!Array.isArray(units) || units.length === 0) throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json lists no controlnets.`);
    await replay(ctx, units, 'weights');
    if (units[0].weights_ldm) await replay(ctx, units, 'weights_ldm');
  },
};

async function replay(ctx: VerifyContext, units: UnitFiles[], which: 'weights' | 'weights_ldm'): Promise<void> {
  const steps = (ctx.files.run as { steps: number }).steps;
  const nets: ControlNetModel[] = [];
  const seen: Array<Map<number, ControlResiduals>> = units.map(() => new Map());
  const label = which === 'weights' ? '' : 'ldm ';
  await runPipelineCase(
    which === 'weights' ? ctx : { ...ctx, report: (c) => ctx.report({ ...c, what: `${label}${c.what}` }) },
    {
      async prepare() {
        const control = units.map((u, k) => {
          const net = new ControlNetModel(resolve(ctx.dir, (k === 0 && u[which]) || u.weights), { cacheRoot: join(ctx.workDir, 'controlnet-cache'), providers: [ctx.target.provider], precision: ctx.target.precision });
          nets.push(net);
          const rgb8 = readNpy(join(ctx.dir, u.conditioning_frames_uint8));
          const [F, H, W] = rgb8.shape;
          const frames = controlImageFromRgb8(rgb8.data as Uint8Array, F, H, W);
          ctx.report(compareArrays(ctx.name, `${label}unit${k} control frames`, frames, npyF32(join(ctx.dir, u.conditioning_frames)).data, { atol: 0, rtol: 0 }));
          const scales = effectiveScales(steps, u.conditioning_scale, { start: u.control_guidance_start, end: u.control_guidance_end });
          const ok = scales.length === u.effective_scale_per_step.length && scales.every((x, i) => Math.fround(x) === Math.fround(u.effective_scale_per_step[i]));
          ctx.report({ case: ctx.name, what: `${label}unit${k} keep·scale per step`, maxAbs: ok ? 0 : Number.POSITIVE_INFINITY, relL2: ok ? 0 : 1, pass: ok, note: ok ? undefined : `got ${scales.join(',')}` });
          return { net, frames, scale: u.conditioning_scale, start: u.control_guidance_start, end: u.control_guidance_end };
        });
        return { control: { units: control, onUnitResiduals: (step, unit, r) => seen[unit].set(step, { down: r.down.map((d) => d.slice()), mid: r.mid.slice() }) } };
      },
      check() {
        units.forEach((u, k) => {
          const mids = npyF32(join(ctx.dir, u.step_mid_residuals));
          const per = mids.data.length / steps;
          for (let i = 0; i < steps; i++) {
            const ref = mids.data.subarray(i * per, (i + 1) * per);
            const got = seen[k].get(i);
            if (got) ctx.report(compareArrays(ctx.name, `${label}step${i} unit${k} mid residual`, got.mid, ref));
            else ctx.report({ ...compareArrays(ctx.name, `${label}step${i} unit${k} off (reference residual is zero)`, new Float32Array(per), ref, { atol: 0, rtol: 0 }) });
          }
          const full = seen[k].get(u.full_residual_step);
          if (!full) {
            ctx.report({ case: ctx.name, what: `${label}unit${k} residuals at step ${u.full_residual_step}`, maxAbs: Number.NaN, relL2: Number.NaN, pass: false, note: 'the unit did not run at that step' });
            return;
          }
          full.down.forEach((d, j) =>
            ctx.report(compareArrays(ctx.name, `${label}step${u.full_residual_step} unit${k} down residual ${j}`, d, npyF32(join(ctx.dir, `step${u.full_residual_step}_controlnet${k}_down_${j}.npy`)).data)),
          );
        });
      },
      async dispose() {
        for (const n of nets) await n.dispose();
      },
    },
  );
}
