/**
 * Sizes a creator picks from. AnimateLCM was trained at 512×512 with 16 frames; the small ones exist for the
 * starter model and quick tests (they take seconds on a CPU). Latents are 1/8 of the size, so sides are
 * multiples of 8 (the UNet's three downsamplings want multiples of 64 for the real model, 8 for the starter).
 */
export interface SizePreset {
  label: string;
  width: number;
  height: number;
}

export const SIZE_PRESETS: readonly SizePreset[] = [
  { label: 'Tiny 64×64 (test)', width: 64, height: 64 },
  { label: 'Small 256×256', width: 256, height: 256 },
  { label: 'Square 512×512', width: 512, height: 512 },
  { label: 'Portrait 512×768', width: 512, height: 768 },
  { label: 'Landscape 768×512', width: 768, height: 512 },
];

export const SIZE_STEP = 8;
export const SIZE_MIN = 64;
export const SIZE_MAX = 1024;
