import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXPORT_FORMATS } from '../../src/shared/domain/export';
import { exportClip } from '../../src/main/export/exporter';
import { locateFfmpeg } from '../../src/main/export/ffmpeg-locate';
import { encodePng } from '../../src/main/formats/png';
import { Recorder, runsOr, type Suite } from '../suite';

const FRAMES = 16;
const SIZE = 512;

/** A frame with smooth gradients and a moving square: typical work for the encoders, not a worst case. */
function frame(w: number, h: number, t: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  const sq = w >> 2;
  const sx = (t * 17) % (w - sq);
  const sy = (t * 11) % (h - sq);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      const inSq = x >= sx && x < sx + sq && y >= sy && y < sy + sq;
      rgb[o] = inSq ? 240 : (x * 200) / w;
      rgb[o + 1] = inSq ? 220 : (y * 180) / h;
      rgb[o + 2] = inSq ? 40 : (60 + t * 9 + ((x ^ y) & 15)) & 0xff;
    }
  }
  return rgb;
}

function sizeOf(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((s, n) => s + statSync(join(path, n)).size, 0);
}

/** `export`: ffmpeg encode time of a 16-frame 512×512 clip per format (the exporter end to end, params embedded). */
export const exportSuite: Suite = async (ctx) => {
  const r = new Recorder('export', ctx.log);
  const runs = runsOr(ctx, 3);
  const tools = locateFfmpeg();
  const dir = mkdtempSync(join(ctx.scratch, 'export-'));
  try {
    const frames = join(dir, 'frames');
    mkdirSync(frames);
    for (let i = 0; i < FRAMES; i++) writeFileSync(join(frames, `frame_${String(i).padStart(4, '0')}.png`), encodePng(frame(SIZE, SIZE, i), SIZE, SIZE));
    for (const format of EXPORT_FORMATS) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const out = join(dir, `out-${i}.${format === 'png' ? 'frames' : format}`);
        const t0 = performance.now();
        await exportClip({ kind: 'frames', dir: frames, fps: 8 }, { format, quality: 'high' }, { out, tools });
        times.push((performance.now() - t0) / 1000);
        bytes = sizeOf(out);
        rmSync(out, { recursive: true, force: true });
      }
      r.fig(`${format} export, ${FRAMES} frames ${SIZE}×${SIZE}`, 's', times, `quality high, ${(bytes / 1024).toFixed(0)} KiB`);
    }
    r.note(`ffmpeg: ${tools.ffmpeg} (${tools.source}); the PNG frames are written once beforehand and not timed.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return r.result();
};
