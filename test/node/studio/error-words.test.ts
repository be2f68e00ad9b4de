import { describe, expect, it } from 'vitest';
import { presentError } from '../../../src/shared/error-words';
import { serializeError, StudioError } from '../../../src/shared/errors';

describe("errors in a creator's words", () => {
  it('replaces text from underneath with a sentence for its code and keeps the original as the technical detail', () => {
    const raw = 'Non-zero status code returned while running Conv node. Name:\'/unet/conv_in/Conv\' Status Message: onnxruntime::BFCArena::AllocateRawInternal Failed to allocate memory';
    const shown = presentError(new StudioError('INFERENCE_FAILED', raw).toJSON());
    expect(shown.message).toMatch(/^The engine could not finish running the model/);
    expect(shown.technical).toBe(raw);
    // An exception that escaped as INTERNAL is never shown raw.
    const internal = presentError(serializeError(new TypeError("Cannot read properties of undefined (reading 'dims')")));
    expect(internal.message).toMatch(/^Something went wrong inside the studio/);
    expect(internal.technical).toContain("reading 'dims'");
  });

  it('leaves messages already written for a creator alone', () => {
    const e = new StudioError('LORA_INCOMPATIBLE', 'ink.safetensors is a LoRA for SDXL; AnimateLCM needs LoRAs made for Stable Diffusion 1.5.').toJSON();
    expect(presentError(e)).toEqual({ message: e.message, technical: null });
  });
});
