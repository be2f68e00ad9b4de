import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addPngText, decodePng, encodePng, readPngSize, readPngText } from '../../../src/main/formats/png';
import { StudioError } from '../../../src/shared/errors';
import { findTool, gradientFrame } from './helpers';

const ffmpeg = findTool('ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'png-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ffmpegRgb(file: string): Buffer {
  return execFileSync(ffmpeg!, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
}

describe('encodePng / decodePng', () => {
  // Odd sizes and a pattern that exercises every row filter.
  const w = 37;
  const h = 23;
  const rgb = gradientFrame(w, h, 3);

  it('round-trips pixels and UTF-8 / Latin-1 text exactly', () => {
    const png = encodePng(rgb, w, h, { text: { parameters: 'a café\nSteps: 6', animatelcm: '{"prompt":"猫 ✨"}' } });
    const d = decodePng(png);
    expect([d.width, d.height]).toEqual([w, h]);
    expect(Buffer.from(d.rgb).equals(Buffer.from(rgb))).toBe(true);
    expect(d.text).toEqual({ parameters: 'a café\nSteps: 6', animatelcm: '{"prompt":"猫 ✨"}' });
    expect(readPngText(png)).toEqual(d.text);
    expect(readPngSize(png)).toEqual({ width: w, height: h });
  });

  it.skipIf(!ffmpeg)('is read by ffmpeg with identical pixels', () => {
    const file = join(dir, 'ours.png');
    writeFileSync(file, encodePng(rgb, w, h));
    expect(ffmpegRgb(file).equals(Buffer.from(rgb))).toBe(true);
  });

  it.skipIf(!ffmpeg)('decodes what ffmpeg writes in other colour types and depths', () => {
    const src = join(dir, 'src.png');
    writeFileSync(src, encodePng(rgb, w, h));
    for (const pixFmt of ['rgba', 'gray', 'pal8', 'ya8', 'monob', 'rgb48be', 'gray16be']) {
      const file = join(dir, `${pixFmt}.png`);
      execFileSync(ffmpeg!, ['-v', 'error', '-y', '-i', src, '-pix_fmt', pixFmt, file]);
      const ours = decodePng(readFileSync(file));
      const theirs = ffmpegRgb(file);
      let maxDiff = 0;
      for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ours.rgb[i]));
      // 8-bit formats must match exactly; 16 → 8 bits may differ by one level in rounding.
      expect(maxDiff, pixFmt).toBeLessThanOrEqual(pixFmt.includes('16') || pixFmt.includes('48') ? 1 : 0);
    }
  });

  it('adds text to an existing PNG idempotently', () => {
    const png = encodePng(rgb, w, h, { text: { parameters: 'old', other: 'kept' } });
    const once = addPngText(png, { parameters: 'new' });
    const twice = addPngText(once, { parameters: 'new' });
    expect(twice.equals(once)).toBe(true);
    const d = decodePng(twice);
    expect(d.text).toEqual({ parameters: 'new', other: 'kept' });
    expect(Buffer.from(d.rgb).equals(Buffer.from(rgb))).toBe(true);
  });

  it('rejects damaged files and wrong buffer sizes with clear errors', () => {
    const png = encodePng(rgb, w, h);
    const corrupt = Buffer.from(png);
    corrupt[40] ^= 0xff;
    expect(() => decodePng(corrupt)).toThrow(/CRC mismatch/);
    expect(() => decodePng(png.subarray(0, png.length - 20))).toThrow(StudioError);
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow(/signature/);
    expect(() => encodePng(rgb, w + 1, h)).toThrow(/Expected/);
  });
});
