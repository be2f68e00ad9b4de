import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TorchCpuGenerator } from '../../engine/noise/torch-randn';
import { compareArrays } from '../compare';
import type { KindHandler, VerifyContext } from '../types';

/**
 * `kind: noise` (test/fixtures/noise/README.md): each stream is one seeded generator and a list of draws taken in
 * order from it; every draw (raw little-endian float32) must match within `tolerance.max_abs` (1e-5).
 * The note says how many values are bit-identical.
 */
interface NoiseStream {
  seed: number | string;
  draws: Array<{ file: string; shape: number[] }>;
}

async function run(ctx: VerifyContext): Promise<void> {
  const streams = ctx.files.streams;
  if (!Array.isArray(streams)) throw new Error(`${ctx.name}: files.json has no "streams" list`);
  const tolerance = ctx.files.tolerance as { max_abs?: number } | undefined;
  const maxAbs = tolerance?.max_abs ?? 1e-5;
  for (const streamFile of streams as string[]) {
    const stream = JSON.parse(readFileSync(join(ctx.dir, streamFile), 'utf8')) as NoiseStream;
    // Seeds above 2^53 must not pass through a double.
    const gen = new TorchCpuGenerator(BigInt(stream.seed));
    const base = streamFile.replace(/\.json$/, '');
    stream.draws.forEach((draw, i) => {
      const ours = gen.randn(draw.shape);
      const bytes = new Uint8Array(readFileSync(join(ctx.dir, draw.file)));
      const ref = new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
      let exact = 0;
      for (let k = 0; k < Math.min(ref.length, ours.length); k++) if (ours[k] === ref[k]) exact++;
      const c = compareArrays(ctx.name, `${base} draw${i} [${draw.shape.join('×')}]`, ours, ref, { atol: maxAbs, rtol: 0 });
      ctx.report({ ...c, note: c.note ?? `${exact}/${ref.length} bit-identical` });
    });
  }
}

export const noiseHandler: KindHandler = { kind: 'noise', noGraph: true, run };
