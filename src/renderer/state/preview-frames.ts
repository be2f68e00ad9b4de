/**
 * Preview frames arrive as base64 RGB (3 bytes a pixel, src/shared/domain/generation.ts PreviewFrames). Canvas
 * wants RGBA: decode once per progress event, not once per paint.
 */
import type { PreviewFrames } from '../../shared/domain/generation';

export interface DecodedPreview {
  width: number;
  height: number;
  frames: ImageData[];
}

export function decodePreview(p: PreviewFrames): DecodedPreview {
  const frames = p.frames.map((b64) => {
    const bin = atob(b64);
    const px = p.width * p.height;
    const rgba = new Uint8ClampedArray(px * 4);
    for (let i = 0, j = 0; i < px && j + 2 < bin.length; i++, j += 3) {
      rgba[i * 4] = bin.charCodeAt(j);
      rgba[i * 4 + 1] = bin.charCodeAt(j + 1);
      rgba[i * 4 + 2] = bin.charCodeAt(j + 2);
      rgba[i * 4 + 3] = 255;
    }
    return new ImageData(rgba, p.width, p.height);
  });
  return { width: p.width, height: p.height, frames };
}
