import type { GenerationParams } from '../../shared/domain/generation';
import { formatParamsText } from './params-text';

/**
 * The two forms a file carries its generation parameters in: the A1111 text other tools show, and our JSON (the
 * complete GenerationParams) that restores a clip exactly. Written by the generator (frame PNGs) and the exporter;
 * where each form goes per format, and how it is read back, is export/embedded-params.ts.
 */
export interface ParamsPayload {
  text: string;
  json: string;
}

/** PNG keyword for the JSON (the A1111 one is "parameters"). */
export const PNG_JSON_KEY = 'animatelcm';
export const PNG_TEXT_KEY = 'parameters';

export function paramsPayload(p: GenerationParams): ParamsPayload {
  return { text: formatParamsText(p), json: JSON.stringify(p) };
}

export function pngTextChunks(p: ParamsPayload): Record<string, string> {
  return { [PNG_TEXT_KEY]: p.text, [PNG_JSON_KEY]: p.json };
}
