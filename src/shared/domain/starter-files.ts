import type { LibraryItem } from './library';

/**
 * What AnimateLCM needs, for the first-run card and the in-app downloader: official addresses (the authors'
 * Hugging Face repositories), sizes and SHA-256 as those repositories publish them (Git LFS details). A hash or
 * byte size not published is null — never guessed — and the label says what is known.
 */
export interface StarterFile {
  id: string;
  /** What it is for, in the creator's words. */
  role: string;
  fileName: string;
  /** Download address, or null where the creator chooses the file (any SD1.5 checkpoint). */
  url: string | null;
  /** Where the address comes from (the repository page). */
  source: string;
  sizeBytes: number | null;
  /** Shown when the exact byte count is not published. */
  sizeLabel: string;
  sha256: string | null;
  optional: boolean;
}

export const STARTER_FILES: readonly StarterFile[] = [
  {
    id: 'sd15-checkpoint',
    role: 'An SD1.5 checkpoint (your style: any complete SD1.5 model, e.g. from your A1111/ComfyUI folder)',
    fileName: '(your choice)',
    url: null,
    source: 'your own model folder',
    sizeBytes: null,
    sizeLabel: 'size unknown (typically 2–4 GB)',
    sha256: null,
    optional: false,
  },
  {
    id: 'animatelcm-t2v-motion',
    role: 'AnimateLCM motion module (text to video)',
    fileName: 'AnimateLCM_sd15_t2v.ckpt',
    url: 'https://huggingface.co/wangfuyun/AnimateLCM/resolve/main/AnimateLCM_sd15_t2v.ckpt',
    source: 'https://huggingface.co/wangfuyun/AnimateLCM',
    sizeBytes: 1_813_041_929,
    sizeLabel: '1.81 GB',
    sha256: 'b46c3de62e5696af72c4056e3cdcbea12fbc19581c0aad7b6f2b027851148f5f',
    optional: false,
  },
  {
    id: 'animatelcm-t2v-lora',
    role: 'AnimateLCM LoRA (text to video)',
    fileName: 'AnimateLCM_sd15_t2v_lora.safetensors',
    url: 'https://huggingface.co/wangfuyun/AnimateLCM/resolve/main/AnimateLCM_sd15_t2v_lora.safetensors',
    source: 'https://huggingface.co/wangfuyun/AnimateLCM',
    sizeBytes: 134_621_556,
    sizeLabel: '135 MB',
    sha256: '8f90d840e075ff588a58e22c6586e2ae9a6f7922996ee6649a7f01072333afe4',
    optional: false,
  },
  {
    id: 'animatelcm-i2v-motion',
    role: 'AnimateLCM-I2V motion module (image to video, optional)',
    fileName: 'AnimateLCM_sd15_i2v.ckpt',
    url: 'https://huggingface.co/wangfuyun/AnimateLCM-I2V/resolve/main/AnimateLCM_sd15_i2v.ckpt',
    source: 'https://huggingface.co/wangfuyun/AnimateLCM-I2V',
    // The file page (blob/main/AnimateLCM_sd15_i2v.ckpt, Git LFS details) publishes the SHA-256 and "2.12 GB", rounded;
    // no page found gives the exact byte count, so none is claimed: the download shows it.
    sizeBytes: null,
    sizeLabel: '2.12 GB (exact size shown after download)',
    sha256: 'c1e7081d294079ff24d12493cb8a5f2412653e66f111e26182b14ee66992e510',
    optional: true,
  },
  {
    id: 'animatelcm-i2v-lora',
    role: 'AnimateLCM-I2V LoRA (image to video, optional)',
    fileName: 'AnimateLCM_sd15_i2v_lora.safetensors',
    url: 'https://huggingface.co/wangfuyun/AnimateLCM-I2V/resolve/main/AnimateLCM_sd15_i2v_lora.safetensors',
    source: 'https://huggingface.co/wangfuyun/AnimateLCM-I2V',
    // The repository's history: "Upload 2 files" published sd15_lora_beta.safetensors with this SHA-256 (LFS details,
    // 135 MB), later "Rename sd15_lora_beta.safetensors to AnimateLCM_sd15_i2v_lora.safetensors" (a rename keeps the
    // LFS object). The T2V LoRA is the same object (same SHA-256), whose LFS pointer publishes size 134,621,556.
    sizeBytes: 134_621_556,
    sizeLabel: '135 MB',
    sha256: '8f90d840e075ff588a58e22c6586e2ae9a6f7922996ee6649a7f01072333afe4',
    optional: true,
  },
];

/**
 * Whether the library already holds a starter file: by its published SHA-256 where there is one (a file of the
 * same name with other bytes is not it), by its file name otherwise; "any SD1.5 checkpoint" by a usable one.
 */
export function starterFilePresent(f: StarterFile, items: readonly Pick<LibraryItem, 'kind' | 'supported' | 'sha256' | 'path'>[]): boolean {
  if (f.id === 'sd15-checkpoint') return items.some((i) => i.kind === 'checkpoint' && i.supported);
  return items.some((i) => (f.sha256 ? i.sha256 === f.sha256 : i.path.endsWith(f.fileName)));
}

/** The Getting-started card's state: which files are there, and whether every required one is. */
export function starterProgress(items: readonly Pick<LibraryItem, 'kind' | 'supported' | 'sha256' | 'path'>[]): {
  present: ReadonlySet<string>;
  requiredDone: boolean;
  required: { done: number; of: number };
  optional: { done: number; of: number };
} {
  const present = new Set(STARTER_FILES.filter((f) => starterFilePresent(f, items)).map((f) => f.id));
  const count = (optional: boolean) => {
    const files = STARTER_FILES.filter((f) => f.optional === optional);
    return { done: files.filter((f) => present.has(f.id)).length, of: files.length };
  };
  const required = count(false);
  return { present, requiredDone: required.done === required.of, required, optional: count(true) };
}
