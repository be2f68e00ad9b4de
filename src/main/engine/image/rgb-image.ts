/** An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B (what the decoders hand the engine). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Python's round(): half to even (PIL's crop box and AnimateLCM's resize size both go through it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
