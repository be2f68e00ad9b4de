import { afterAll, describe, expect, it } from 'vitest';
import { readLoraMetadata, topTags } from '../../../src/main/compiler/families/lora-metadata';
import { openSafetensors, writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { tempDir } from '../io/helpers';

const { dir, cleanup } = tempDir('loramd');
afterAll(cleanup);

describe('LoRA library metadata', () => {
  it('reads kohya and modelspec fields, trigger words and thumbnail from a real safetensors header', () => {
    const p = `${dir}/style.safetensors`;
    const thumb = 'data:image/png;base64,iVBORw0KGgo=';
    writeSafetensors(p, [{ name: 'lora_unet_x.lora_down.weight', dtype: 'F32', shape: [1, 2], data: new Float32Array(2) }], {
      ss_output_name: 'inkwash_v2',
      ss_base_model_version: 'sd_v1',
      ss_network_dim: '32',
      ss_network_alpha: '16.0',
      ss_network_module: 'networks.lora',
      ss_network_args: '{"conv_dim": "8"}',
      ss_tag_frequency: JSON.stringify({ '10_inkwash': { inkwash: 40, 'ink painting': 12, mountain: 3 }, '5_extra': { 'ink painting': 30, sky: 1 } }),
      'modelspec.title': 'Ink Wash',
      'modelspec.trigger_phrase': 'inkwash style, monochrome',
      'modelspec.thumbnail': thumb,
    });
    const md = readLoraMetadata(openSafetensors(p));
    expect(md.title).toBe('Ink Wash');
    expect(md.outputName).toBe('inkwash_v2');
    expect(md.baseModelVersion).toBe('sd_v1');
    expect(md.networkDim).toBe('32');
    expect(md.networkAlpha).toBe('16.0');
    expect(md.networkModule).toBe('networks.lora');
    expect(md.networkArgs).toEqual({ conv_dim: '8' });
    expect(md.triggerWords).toEqual(['inkwash style', 'monochrome', 'ink painting', 'inkwash', 'mountain', 'sky']);
    expect(md.thumbnail).toBe(thumb);
    expect(md.raw.ss_output_name).toBe('inkwash_v2');
  });

  it('tolerates broken JSON and odd values', () => {
    expect(topTags('{not json')).toEqual([]);
    expect(topTags(JSON.stringify({ d: { a: 'x', b: 2, ' ': 9 } }))).toEqual(['b']);
    const md = readLoraMetadata({ metadata: { ss_network_args: '[', 'modelspec.thumbnail': 'javascript:alert(1)', ss_output_name: 'None' } });
    expect(md.networkArgs).toBeUndefined();
    expect(md.thumbnail).toBeUndefined();
    expect(md.outputName).toBeUndefined();
    expect(md.triggerWords).toEqual([]);
  });

  it('reads the fixtures\' kohya metadata', () => {
    const md = readLoraMetadata(openSafetensors('test/fixtures/reference/lora_loha/lora_loha.safetensors'));
    expect(md.networkModule).toBe('lycoris.kohya');
    expect(md.networkArgs).toMatchObject({ algo: 'loha' });
  });
});
