import { describe, expect, it } from 'vitest';
import { loraFitsModel, modelBase } from '../../../src/shared/domain/lora-fit';

describe('LoRA fit warnings', () => {
  it('an SD1.5 LoRA fits every SD1.5-based model family, the bare UNet included', () => {
    for (const family of ['sd15', 'unet', 'sd15_inpaint']) {
      expect(modelBase(family)).toBe('sd15');
      expect(loraFitsModel('sd15', family)).toBe(true);
    }
  });

  it('a LoRA for another base is a mismatch; unknown sides are not called one', () => {
    expect(loraFitsModel('sdxl', 'sd15')).toBe(false);
    expect(loraFitsModel('sd2', 'unet')).toBe(false);
    expect(loraFitsModel('sd15', 'sdxl')).toBe(false);
    expect(loraFitsModel('unknown', 'sd15')).toBe(true);
    expect(loraFitsModel('sd15', null)).toBe(true);
  });
});
