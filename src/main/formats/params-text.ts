/**
 * Generation parameters as text, both ways.
 *
 * - The A1111 "parameters" line that Civitai, A1111, Forge and most image viewers understand:
 *     prompt
 *     Negative prompt: …
 *     Steps: 6, Sampler: LCM, CFG scale: 1.5, Seed: 42, Size: 512x512, Model hash: …, Frames: 16, FPS: 8, …
 *   Values containing a comma, colon or newline are JSON-quoted, as A1111 does, so the line parses back.
 * - Our JSON (the whole GenerationParams), which is what restores a clip exactly.
 *
 * Embedded parameters are untrusted input (a file from the internet), so `coerceParams` rebuilds the object
 * field by field with type checks instead of trusting a cast.
 */
import { DEFAULT_CONTROL_UNIT, type ControlNetUnit } from '../../shared/domain/controlnet';
import { DEFAULT_MOTION_SCALE, DEFAULT_PARAMS, DEFAULT_V2V_STRENGTH, type GenerationParams, type LoraRef, type ProviderName } from '../../shared/domain/generation';
import { CONTEXT_MODES, CONTEXT_NOISES, CONTEXT_WEIGHTINGS, DEFAULT_CONTEXT_WINDOWS } from '../../shared/domain/context-windows';

/** The engine's name in the "Version" field, so a reader knows which tool wrote the line. */
export const PARAMS_VERSION_TAG = 'AnimateLCM Studio';

function quoteIfNeeded(v: string): string {
  return /[,:\n"]/.test(v) ? JSON.stringify(v) : v;
}

function baseName(p: string): string {
  const last = p.split(/[\\/]/).pop() ?? p;
  return last.replace(/\.(safetensors|ckpt|pt|pth|bin|onnx)$/i, '');
}

/** A1111's short model hash is the first 10 hex digits of the file's SHA-256 (AutoV2). */
function shortHash(h: string): string {
  return h.slice(0, 10);
}

/** Extra fields the generator may store beside GenerationParams in params.json (optional). */
interface ParamsExtras {
  modelHash?: string;
  motionHash?: string;
}

function extras(p: GenerationParams): ParamsExtras {
  const r = p as unknown as Record<string, unknown>;
  return {
    modelHash: typeof r.modelHash === 'string' ? r.modelHash : undefined,
    motionHash: typeof r.motionHash === 'string' ? r.motionHash : undefined,
  };
}

/** The A1111-style parameters text for a generation. */
export function formatParamsText(p: GenerationParams): string {
  const x = extras(p);
  const fields: Array<[string, string | number | undefined]> = [
    ['Steps', p.steps],
    ['Sampler', 'LCM'],
    ['CFG scale', p.guidance],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', x.modelHash ? shortHash(x.modelHash) : undefined],
    ['Model', p.model ? baseName(p.model) : undefined],
    ['Clip skip', p.clipSkip > 1 ? p.clipSkip : undefined],
    ['Frames', p.frames],
    ['FPS', p.fps],
    ['Motion module', p.motion ? baseName(p.motion) : undefined],
    ['Motion hash', x.motionHash ? shortHash(x.motionHash) : undefined],
    ['LCM LoRA weight', p.lcmLora ? p.lcmLora.weight : undefined],
    ['Context windows', p.contextWindows ? `${p.contextWindows.length}/${p.contextWindows.stride} ${p.contextWindows.weighting} ${p.contextWindows.noise} ${p.contextWindows.mode}` : undefined],
    ['Prompt travel', p.promptKeyframes?.length ? p.promptKeyframes.map((k) => `${k.frame}=${k.prompt}`).join(' | ') : undefined],
  ];
  const active = p.loras.filter((l) => l.enabled !== false);
  if (active.length) {
    fields.push(['Lora weights', active.map((l) => `${l.name ?? baseName(l.path)}: ${l.weight}`).join(', ')]);
    const hashed = active.filter((l) => l.sha256);
    if (hashed.length) fields.push(['Lora hashes', hashed.map((l) => `${l.name ?? baseName(l.path)}: ${shortHash(l.sha256!)}`).join(', ')]);
  }
  const input = p.input;
  if (input) {
    // The JSON form carries the input exactly (stored path + hash); the text says what kind and how strong.
    fields.push(['Mode', input.kind === 'image' ? 'image-to-video' : 'video-to-video']);
    if (input.kind === 'image') fields.push(['Motion scale', input.motionScale], ['Color match', input.colorMatch ? 'on' : 'off']);
    else fields.push(['Denoising strength', input.strength]);
    if (input.sha256) fields.push(['Input hash', shortHash(input.sha256)]);
  }
  fields.push(['Version', PARAMS_VERSION_TAG]);
  const line = fields
    .filter((f): f is [string, string | number] => f[1] !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? quoteIfNeeded(v) : String(v)}`)
    .join(', ');
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(line);
  return lines.join('\n');
}

/** `key: value` pairs of the last line, A1111's own pattern (quoted values may hold commas). */
const FIELD = /\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;

function parseFields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(FIELD)) {
    let v = m[2].trim();
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        // leave the raw text
      }
    }
    out.set(m[1].trim(), v);
  }
  return out;
}

/**
 * Parse A1111-style text into parameters (unknown fields keep their defaults). Returns undefined when the text
 * has no "Steps:" line, i.e. is not a parameters block at all.
 */
export function parseParamsText(text: string): GenerationParams | undefined {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === '') last--;
  if (last < 0 || !/(^|,\s*)Steps:\s*\d/.test(lines[last])) return undefined;
  const fields = parseFields(lines[last]);
  const body = lines.slice(0, last);
  const negAt = body.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negAt >= 0 ? body.slice(0, negAt) : body).join('\n');
  const negativePrompt = negAt >= 0 ? body.slice(negAt).join('\n').replace(/^Negative prompt:\s?/, '') : '';

  const num = (k: string): number | undefined => {
    const v = fields.get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const p: GenerationParams = { ...DEFAULT_PARAMS, loras: [], prompt, negativePrompt };
  p.steps = num('Steps') ?? p.steps;
  p.guidance = num('CFG scale') ?? p.guidance;
  p.seed = num('Seed') ?? p.seed;
  p.frames = num('Frames') ?? p.frames;
  p.fps = num('FPS') ?? p.fps;
  p.clipSkip = num('Clip skip') ?? p.clipSkip;
  const size = /^(\d+)x(\d+)$/.exec(fields.get('Size') ?? '');
  if (size) {
    p.width = Number(size[1]);
    p.height = Number(size[2]);
  }
  return p;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
const PROVIDERS: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

/** Rebuild GenerationParams from untrusted JSON; undefined when it is not a parameters object at all. */
export function coerceParams(v: unknown): GenerationParams | undefined {
  if (!isObj(v) || typeof v.prompt !== 'string') return undefined;
  const d = DEFAULT_PARAMS;
  const loras: LoraRef[] = Array.isArray(v.loras)
    ? v.loras.filter(isObj).filter((l) => typeof l.path === 'string').map((l) => {
        const r: LoraRef = { path: l.path as string, weight: num(l.weight, 1) };
        if (typeof l.enabled === 'boolean') r.enabled = l.enabled;
        if (typeof l.sha256 === 'string') r.sha256 = l.sha256;
        if (typeof l.name === 'string') r.name = l.name;
        return r;
      })
    : [];
  const s = isObj(v.scheduler) ? v.scheduler : {};
  const p: GenerationParams = {
    prompt: v.prompt,
    negativePrompt: str(v.negativePrompt, d.negativePrompt),
    seed: num(v.seed, d.seed),
    steps: num(v.steps, d.steps),
    guidance: num(v.guidance, d.guidance),
    frames: num(v.frames, d.frames),
    width: num(v.width, d.width),
    height: num(v.height, d.height),
    fps: num(v.fps, d.fps),
    loras,
    clipSkip: num(v.clipSkip, d.clipSkip),
    weighting: v.weighting === 'comfy' ? 'comfy' : 'a1111',
    motionGroupNorm: v.motionGroupNorm === 'across_frames' ? 'across_frames' : 'per_frame',
    scheduler: {
      name: 'lcm',
      beta_start: num(s.beta_start, d.scheduler.beta_start),
      beta_end: num(s.beta_end, d.scheduler.beta_end),
      beta_schedule: s.beta_schedule === 'scaled_linear' ? 'scaled_linear' : 'linear',
      num_train_timesteps: num(s.num_train_timesteps, d.scheduler.num_train_timesteps),
      original_inference_steps: num(s.original_inference_steps, d.scheduler.original_inference_steps),
      timestep_scaling: num(s.timestep_scaling, d.scheduler.timestep_scaling),
    },
    providers: Array.isArray(v.providers) ? v.providers.filter((x): x is ProviderName => PROVIDERS.includes(x as ProviderName)) : [...d.providers],
  };
  if (typeof v.model === 'string') p.model = v.model;
  if (typeof v.motion === 'string') p.motion = v.motion;
  if (isObj(v.lcmLora) && typeof v.lcmLora.path === 'string') p.lcmLora = { path: v.lcmLora.path, weight: num(v.lcmLora.weight, 0.8) };
  const cw = v.contextWindows;
  if (isObj(cw)) {
    const d = DEFAULT_CONTEXT_WINDOWS;
    const pick = <T extends string>(x: unknown, allowed: readonly T[], fallback: T): T => (allowed.includes(x as T) ? (x as T) : fallback);
    p.contextWindows = {
      length: num(cw.length, d.length),
      stride: num(cw.stride, d.stride),
      weighting: pick(cw.weighting, CONTEXT_WEIGHTINGS, d.weighting),
      noise: pick(cw.noise, CONTEXT_NOISES, d.noise),
      mode: pick(cw.mode, CONTEXT_MODES, d.mode),
    };
  }
  if (Array.isArray(v.promptKeyframes)) {
    p.promptKeyframes = v.promptKeyframes.filter(isObj).filter((k) => typeof k.prompt === 'string').map((k) => ({ frame: num(k.frame, 0), prompt: k.prompt as string }));
  }
  const input = v.input;
  if (isObj(input) && typeof input.path === 'string') {
    const sha256 = typeof input.sha256 === 'string' ? { sha256: input.sha256 } : {};
    if (input.kind === 'image') p.input = { kind: 'image', path: input.path, ...sha256, motionScale: num(input.motionScale, DEFAULT_MOTION_SCALE), colorMatch: input.colorMatch !== false };
    else if (input.kind === 'video') p.input = { kind: 'video', path: input.path, ...sha256, strength: num(input.strength, DEFAULT_V2V_STRENGTH) };
  }
  const units = coerceControlUnits(v.controlNets);
  if (units) p.controlNets = units;
  return p;
}

/** ControlNet units from untrusted JSON, with their recorded hashes (a unit without file and input is dropped). */
function coerceControlUnits(v: unknown): ControlNetUnit[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const d = DEFAULT_CONTROL_UNIT;
  return v.filter(isObj).filter((u) => typeof u.model === 'string' && typeof u.control === 'string').map((u) => {
    const r: ControlNetUnit = {
      model: u.model as string,
      control: u.control as string,
      scale: num(u.scale, d.scale),
      start: num(u.start, d.start),
      end: num(u.end, d.end),
      preprocess: u.preprocess === 'canny' ? 'canny' : 'none',
    };
    if (typeof u.cannyLow === 'number') r.cannyLow = u.cannyLow;
    if (typeof u.cannyHigh === 'number') r.cannyHigh = u.cannyHigh;
    if (typeof u.enabled === 'boolean') r.enabled = u.enabled;
    if (typeof u.modelSha256 === 'string') r.modelSha256 = u.modelSha256;
    if (typeof u.controlSha256 === 'string') r.controlSha256 = u.controlSha256;
    return r;
  });
}
