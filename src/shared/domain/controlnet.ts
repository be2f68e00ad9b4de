/**
 * One ControlNet unit of a generation: an SD1.5 ControlNet file, its conditioning input (an image used for every
 * frame, a video, or a folder of frames), how strongly and during which part of the steps it steers, and how the
 * input becomes a control map. Units apply in list order; their residuals sum.
 */
export type ControlPreprocess = 'canny' | 'none';

export interface ControlNetUnit {
  /** The ControlNet weights (control_v11p_sd15_*.pth / .safetensors, or a diffusers ControlNet folder/file). */
  model: string;
  /** Conditioning input: an image, a video, or a folder of frames (sorted by name). */
  control: string;
  /** controlnet_conditioning_scale (diffusers default 1). */
  scale: number;
  /** Fraction of the steps where the unit starts (control_guidance_start, default 0). */
  start: number;
  /** Fraction of the steps where it stops (control_guidance_end, default 1). */
  end: number;
  /** `canny`: edges made here from the input; `none`: the input already is the control map (depth, pose, …). */
  preprocess: ControlPreprocess;
  /** Canny thresholds (OpenCV's; defaults 100 / 200). */
  cannyLow?: number;
  cannyHigh?: number;
  enabled?: boolean;
  /** SHA-256 of the ControlNet file and of the control input (a file, or a folder's frames in order), filled in for the history. */
  modelSha256?: string;
  controlSha256?: string;
}

export const DEFAULT_CONTROL_UNIT: Omit<ControlNetUnit, 'model' | 'control'> = { scale: 1, start: 0, end: 1, preprocess: 'none', cannyLow: 100, cannyHigh: 200 };

/** Which clip the preview is for: the control maps depend on its size and frame count. */
export interface ControlPreviewClip {
  frames: number;
  width: number;
  height: number;
}

/** A unit's control maps as the ControlNet will see them, a few frames spread over the clip, as PNGs to show. */
export interface ControlPreview {
  /** Clip frame index and the PNG's absolute path (inside the data folder; the renderer shows it via mediaUrl). */
  frames: { index: number; path: string }[];
  notes: string[];
}

/** How many preview frames a unit shows at most (first, last and evenly between). */
export const CONTROL_PREVIEW_FRAMES = 4;

/** What to tell a creator about maps that need a model to make. */
export const CONTROL_MAP_HINT =
  'Depth, pose, line-art and other maps need a model to make: make them with a ControlNet preprocessor (e.g. the controlnet_aux annotators, or A1111/ComfyUI preprocessors) and pass the result with --preprocess none.';
