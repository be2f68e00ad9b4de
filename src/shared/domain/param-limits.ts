/**
 * The ranges the Generate and Settings forms offer: `min`…`max` is what the slider covers (the useful values),
 * `hardMin`…`hardMax` what a typed value may be (inside what the API accepts, src/shared/api-validation.ts).
 * Outside those a typed value is refused with its reason, never clamped.
 */
export interface ParamLimit {
  min: number;
  max: number;
  hardMin: number;
  hardMax: number;
  step: number;
}

export const PARAM_LIMITS = {
  steps: { min: 1, max: 12, hardMin: 1, hardMax: 50, step: 1 },
  guidance: { min: 1, max: 3, hardMin: 1, hardMax: 10, step: 0.1 },
  frames: { min: 2, max: 32, hardMin: 2, hardMax: 64, step: 1 },
  fps: { min: 1, max: 30, hardMin: 1, hardMax: 60, step: 1 },
  loraWeight: { min: -1, max: 2, hardMin: -10, hardMax: 10, step: 0.05 },
  lcmLoraWeight: { min: 0, max: 1.5, hardMin: -10, hardMax: 10, step: 0.05 },
  clipSkip: { min: 1, max: 4, hardMin: 1, hardMax: 12, step: 1 },
} as const satisfies Record<string, ParamLimit>;
