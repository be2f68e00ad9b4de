/**
 * How an error reads to a creator. Studio errors are written for creators already; but a few paths carry text
 * from underneath (onnxruntime's own messages, a JavaScript exception marked INTERNAL). Those are shown as a
 * sentence for their code, with the original text kept one click away as the technical detail.
 */
import type { ErrorCode, SerializedError } from './errors';

const CODE_WORDS: Partial<Record<ErrorCode, string>> = {
  INTERNAL: 'Something went wrong inside the studio. Try again; if it keeps happening, the technical details say where it broke.',
  INFERENCE_FAILED: 'The engine could not finish running the model. A smaller size or fewer frames needs less memory; the technical details say what onnxruntime reported.',
  ENGINE_CRASHED: 'The engine stopped unexpectedly (often: not enough memory). It restarts for the next job; try fewer frames or a smaller size.',
  COMPILE_FAILED: 'The model could not be prepared for the engine. The technical details say which part failed.',
  PROVIDER_UNAVAILABLE: 'The chosen accelerator could not start on this machine. Choose another in Engine options or Settings; CPU always works.',
  FFMPEG_FAILED: 'ffmpeg could not write the video. The technical details hold its output.',
  CACHE_CORRUPT: 'A prepared model in the cache is damaged; it will be prepared again on the next run.',
};

/** Text from below the studio: onnxruntime status lines, C++ scopes, stack frames, exception names. */
export function looksTechnical(message: string): boolean {
  return /onnxruntime|\bORT\b|status code|\[(E|W|I):|::|Exception|Traceback|\n\s+at |\bat [\w.<>]+ \(|TypeError|ReferenceError|Cannot read propert|undefined is not|ENOMEM|SIGSEGV|SIGKILL/.test(message);
}

export interface PresentedError {
  /** What the creator reads first. */
  message: string;
  /** The original text when it was replaced (for the details); null when the message is already the creator's. */
  technical: string | null;
}

export function presentError(e: SerializedError): PresentedError {
  const technical = e.code === 'INTERNAL' || looksTechnical(e.message);
  if (!technical) return { message: e.message, technical: null };
  return { message: CODE_WORDS[e.code] ?? 'Something went wrong. The technical details say what happened.', technical: e.message };
}
