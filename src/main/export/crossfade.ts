/**
 * Crossfades between timeline clips. The frame plan names, for each output frame, either one source PNG or a
 * blend of two (the outgoing clip's frame and the incoming one's, with the incoming one's share `t`); the blend
 * is made here, pixel by pixel, just before the frame goes to ffmpeg. Kept apart from the plan's time arithmetic
 * and from ffmpeg so a cut-only export is untouched.
 */
import { readFile } from 'node:fs/promises';
import { StudioError } from '../../shared/errors';
import { decodePng, encodePng } from '../formats/png';

export interface BlendedFrame {
  from: string;
  to: string;
  /** Share of `to`, 0 < t < 1. */
  t: number;
}

/** One output frame of a plan: a PNG path, or two blended. */
export type PlannedFrame = string | BlendedFrame;

export const isBlend = (f: PlannedFrame): f is BlendedFrame => typeof f !== 'string';

/**
 * Joins the next clip's frames onto the frames so far, overlapping the last `overlap` of them with its first
 * `overlap` frames, each pair blended with a share rising evenly from 1/(overlap+1) to overlap/(overlap+1).
 */
export function joinWithCrossfade(before: PlannedFrame[], next: PlannedFrame[], overlap: number): PlannedFrame[] {
  if (overlap <= 0) return [...before, ...next];
  const head = before.slice(0, before.length - overlap);
  const tail = before.slice(before.length - overlap);
  const blended = tail.map((f, j): PlannedFrame => ({ from: pathOf(f), to: pathOf(next[j]), t: (j + 1) / (overlap + 1) }));
  return [...head, ...blended, ...next.slice(overlap)];
}

/** A blend over a blend (three clips overlapping) is not supported: the later frame's own picture is used. */
function pathOf(f: PlannedFrame): string {
  return isBlend(f) ? f.to : f;
}

/** The PNG bytes for one planned frame. */
export async function frameBytes(f: PlannedFrame): Promise<Buffer> {
  if (!isBlend(f)) return readFile(f);
  const [a, b] = await Promise.all([readFile(f.from), readFile(f.to)]);
  const pa = decodePng(a);
  const pb = decodePng(b);
  if (pa.width !== pb.width || pa.height !== pb.height) {
    throw new StudioError('EXPORT_INVALID', `A crossfade joins clips of different sizes (${pa.width}×${pa.height} and ${pb.width}×${pb.height}); set it to 0 (a cut) or use clips of one size.`, {
      from: f.from,
      to: f.to,
    });
  }
  const out = new Uint8Array(pa.rgb.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(pa.rgb[i] * (1 - f.t) + pb.rgb[i] * f.t);
  return encodePng(out, pa.width, pa.height);
}
