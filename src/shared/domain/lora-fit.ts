/**
 * Whether a LoRA fits the chosen model, as the engine decides it: LoRAs are badged by the base model they were
 * trained for ('sd15', 'sd2', 'sdxl', 'unknown'), models by their detected family — and several model families
 * are the same SD1.5 base (a full checkpoint, a bare UNet with SD1.5's shapes, an inpainting variant). Comparing
 * the two strings directly told creators an SD1.5 LoRA "will not apply" to a bare SD1.5 UNet that it did apply to.
 */

/** The base a model family belongs to; null when the family says nothing about it. */
export function modelBase(modelFamily: string): string | null {
  switch (modelFamily) {
    case 'sd15':
    case 'unet': // the family table reaches 'unet' only after the SD2/SDXL shape rows: SD1.5 context width
    case 'sd15_inpaint':
      return 'sd15';
    case 'sd2':
    case 'sdxl':
      return modelFamily;
    default:
      return null;
  }
}

/**
 * False only when both sides are known and differ: then the engine refuses the LoRA. An unknown LoRA base is
 * checked by the engine when it is applied, so it is not called a mismatch here.
 */
export function loraFitsModel(loraBase: string, modelFamily: string | null): boolean {
  if (modelFamily === null || loraBase === 'unknown') return true;
  const base = modelBase(modelFamily);
  return base === null || base === loraBase;
}
