import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openSafetensorsForTest } from './safetensors-header';
import { ANIMATELCM_MOTION, CLIP_L_TEXT, parseClipTextConfig, parseMotionConfig, parseUNetConfig, parseVaeConfig, SD15_UNET, SD15_VAE } from '../../../src/main/compiler/families/configs';
import {
  clipTextParameterShapes,
  motionParameterShapes,
  unetParameterShapes,
  vaeParameterShapes,
  type ShapeMap,
} from '../../../src/main/compiler/families/parameter-shapes';

const fixtures = new URL('../../fixtures/', import.meta.url);
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(p, fixtures), 'utf8')) as Record<string, unknown>;

function manifestShapes(file: string, drop: (k: string) => boolean = () => false): ShapeMap {
  const m = json(`manifests/${file}`) as { diffusers: Record<string, { shape: number[] }> };
  return new Map(Object.entries(m.diffusers).filter(([k]) => !drop(k)).map(([k, v]) => [k, v.shape]));
}

function expectSameShapes(actual: ShapeMap, expected: ShapeMap): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, s] of expected) expect(actual.get(k), k).toEqual(s);
}

describe('parameter shapes implied by a config', () => {
  it('match the full-size SD1.5 UNet manifest', () => {
    expectSameShapes(unetParameterShapes(SD15_UNET), manifestShapes('sd15_unet.json'));
  });
  it('match the full-size AnimateLCM motion adapter manifest (positional buffers excluded)', () => {
    expectSameShapes(motionParameterShapes(ANIMATELCM_MOTION), manifestShapes('motion_adapter_v2_animatelcm.json', (k) => k.endsWith('.pe')));
  });
  it('match the full-size VAE and CLIP-L manifests', () => {
    expectSameShapes(vaeParameterShapes(SD15_VAE), manifestShapes('sd15_vae.json'));
    expectSameShapes(clipTextParameterShapes(CLIP_L_TEXT), manifestShapes('clip_vit_l14_text.json', (k) => k.endsWith('position_ids')));
  });
  it('match the tiny reference models tensor for tensor', () => {
    const tables: Array<[ShapeMap, string, (k: string) => boolean]> = [
      [unetParameterShapes(parseUNetConfig(json('reference/unet2d/config.json'))), 'reference/unet2d/weights.safetensors', () => false],
      [motionParameterShapes(parseMotionConfig(json('reference/unet_motion/motion_adapter_config.json'))), 'reference/unet_motion/motion_adapter.safetensors', (k) => k.endsWith('.pe')],
      [vaeParameterShapes(parseVaeConfig(json('reference/vae/config.json'))), 'reference/vae/weights.safetensors', () => false],
      [clipTextParameterShapes(parseClipTextConfig(json('reference/clip_text/config.json'))), 'reference/clip_text/weights.safetensors', (k) => k.endsWith('position_ids')],
    ];
    for (const [shapes, file, drop] of tables) {
      const header = openSafetensorsForTest(new URL(file, fixtures));
      expectSameShapes(shapes, new Map([...header].filter(([k]) => !drop(k))));
    }
  });
});
