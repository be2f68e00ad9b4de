import { CONTEXT_MODES, CONTEXT_NOISES, CONTEXT_WEIGHTINGS, DEFAULT_CONTEXT_WINDOWS, type ContextWindowParams, type PromptKeyframe } from '../../../shared/domain/context-windows';
import { StudioError } from '../../../shared/errors';
import { flag, type ParsedArgs } from '../command';

/**
 * `generate`'s long-clip flags: `--context-length L --context-stride S --context-weighting … --context-noise …
 * --context-mode studio|diffusers` (any one turns FreeNoise context windows on; the others default to
 * DEFAULT_CONTEXT_WINDOWS) and `--prompt-at <frame>=<text>` (repeatable; `--prompt` is frame 0).
 */
export const LONG_CLIP_USAGE =
  '[--context-length L] [--context-stride S] [--context-weighting flat|pyramid|delayed_reverse_sawtooth] ' +
  '[--context-noise shuffle_context|repeat_context|random] [--context-mode studio|diffusers] [--prompt-at <frame>=<text> …]';

export function contextWindowsFromArgs(p: ParsedArgs, usage: (message: string) => StudioError): ContextWindowParams | undefined {
  const names = ['context-length', 'context-stride', 'context-weighting', 'context-noise', 'context-mode'];
  if (!names.some((n) => p.flags.has(n))) return undefined;
  const int = (name: string, fallback: number): number => {
    const v = flag(p, name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 1) throw usage(`--${name} must be a whole number ≥ 1 (got "${v}").`);
    return n;
  };
  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = flag(p, name);
    if (v === undefined) return fallback;
    if (!allowed.includes(v as T)) throw usage(`--${name} must be one of ${allowed.join(', ')} (got "${v}").`);
    return v as T;
  };
  const d = DEFAULT_CONTEXT_WINDOWS;
  return {
    length: int('context-length', d.length),
    stride: int('context-stride', d.stride),
    weighting: choice('context-weighting', CONTEXT_WEIGHTINGS, d.weighting),
    noise: choice('context-noise', CONTEXT_NOISES, d.noise),
    mode: choice('context-mode', CONTEXT_MODES, d.mode),
  };
}

export function promptKeyframesFromArgs(p: ParsedArgs, usage: (message: string) => StudioError): PromptKeyframe[] | undefined {
  const values = p.flags.get('prompt-at');
  if (!values) return undefined;
  return values.map((v) => {
    const m = /^\s*(\d+)\s*=(.*)$/s.exec(v);
    if (!m) throw usage(`--prompt-at needs <frame>=<text>, e.g. --prompt-at "24=a city at night" (got "${v}").`);
    return { frame: Number(m[1]), prompt: m[2] };
  });
}
