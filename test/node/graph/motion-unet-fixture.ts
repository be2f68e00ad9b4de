import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMotionConfig, parseUNetConfig, type UNetConfig } from '../../../src/main/compiler/families/configs';
import type { MotionInflation } from '../../../src/main/compiler/families/unet';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { readJson } from '../../../src/main/verify/kinds/unet2d';
import { tableWeights } from '../../../src/main/verify/run-graph';

export const REF = join(__dirname, '../../fixtures/reference');

/** The fixture motion UNet (unet2d's weights + unet_motion's adapter) inflated to 4 frames, for graph-shape tests. */
export function motionUNetFixture(): { w: WeightSet; cfg: UNetConfig; motion: MotionInflation } {
  const dir = join(REF, 'unet_motion');
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as { weights: Record<string, string> };
  const w = tableWeights(openSafetensors(join(REF, 'unet2d/weights.safetensors')));
  const cfg = parseUNetConfig(readJson(join(REF, 'unet2d/config.json')));
  const motionWeights = tableWeights(openSafetensors(join(dir, files.weights['motion_adapter'] ?? 'motion_adapter.safetensors')));
  return { w, cfg, motion: { w: motionWeights, cfg: parseMotionConfig(readJson(join(dir, 'motion_adapter_config.json'))), frames: 4, groupnorm: 'across_frames' } };
}
