import { StudioError } from '../../../shared/errors';
import { detectModel, summarizeDetected, type Detected } from '../../compiler/families/detect';
import { readLoraMetadata } from '../../compiler/families/lora-metadata';
import { checkpointUsability, type Usability } from '../../compiler/families/usability';
import { hashModelFile, type ModelHashes } from '../../compiler/io/hash';
import { openModel } from '../../compiler/io/open';
import { numel, type DType } from '../../compiler/io/tensor';
import { canonicalize } from '../../compiler/names/canonicalize';
import { embeddingLayout, type EmbeddingFormat } from '../../engine/embeddings/embedding-file';
import { isStudioError } from '../../../shared/errors';
import { parseArgs, type CliCommand } from '../command';
import { basename, extname } from 'node:path';

/** What the file is for a creator: the kinds the studio uses differently. */
export type AssetKind = 'checkpoint' | 'unet' | 'text_encoder' | 'vae' | 'motion_module' | 'lora' | 'motion_lora' | 'embedding' | 'other';

/**
 * `inspect <file|folder> [--json] [--no-hash]`: what a model file is, read with the same bounded, no-code readers
 * the compiler uses. A file the studio refuses (hostile, broken, or another model family) exits 1 with the
 * error; with --json the error is `{"error": {code, message, details}}` (cli.ts prints it).
 */
export interface InspectReport {
  path: string;
  container: string;
  layout: string;
  family: string;
  /** checkpoint, vae, motion_module, lora, motion_lora (AnimateDiff MotionLoRA), embedding (textual inversion), … */
  kind: AssetKind;
  label: string;
  /** One line: family, channels, heads, motion length, mid block, GroupNorm mode. */
  summary: string;
  supported: boolean;
  message?: string;
  config: Detected['configs'];
  dtypes: Partial<Record<DType, number>>;
  parameters: number;
  tensors: Array<{ name: string; dtype: DType; shape: number[] }>;
  metadata: Record<string, string>;
  unmatched: string[];
  dropped: string[];
  notes: string[];
  hashes?: ModelHashes;
  /** For a file with a UNet: can it be the generation's checkpoint (complete, CLIP text encoder), and what it is. */
  checkpoint?: Omit<Usability, 'problem'>;
  lora?: Detected['lora'] & Omit<ReturnType<typeof readLoraMetadata>, 'raw'>;
  /** Textual-inversion embeddings: the word that calls it (A1111: the file name), vectors, width, layout. */
  embedding?: { word: string; vectors: number; width: number; format: EmbeddingFormat };
}

function kindOf(d: Detected): AssetKind {
  if (d.lora) return d.lora.motion ? 'motion_lora' : 'lora';
  const byFamily: Partial<Record<Detected['family'], AssetKind>> = { sd15: 'checkpoint', unet: 'unet', clip: 'text_encoder', vae: 'vae', motion: 'motion_module' };
  return byFamily[d.family] ?? 'other';
}

/** The embedding in `table`, or undefined when it is not one (SDXL embeddings throw their typed refusal). */
function embeddingOf(table: Parameters<typeof embeddingLayout>[0]): InspectReport['embedding'] | undefined {
  try {
    const e = embeddingLayout(table);
    const stem = basename(table.path, extname(table.path));
    return { word: e.format === 'diffusers' && stem.startsWith('learned_embeds') ? e.view.name : stem, vectors: e.count, width: e.width, format: e.format };
  } catch (err) {
    if (isStudioError(err) && err.code === 'FORMAT_MISMATCH') return undefined;
    throw err;
  }
}

export async function inspectModel(path: string, options: { hash: boolean }): Promise<InspectReport> {
  const table = openModel(path);
  try {
    const canonical = canonicalize(table);
    const detected = detectModel(table, canonical);
    const tensors = table.names().map((name) => {
      const v = table.get(name)!;
      return { name, dtype: v.dtype, shape: v.shape };
    });
    const dtypes: Partial<Record<DType, number>> = {};
    let parameters = 0;
    for (const t of tensors) {
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
      parameters += numel(t.shape);
    }
    const report: InspectReport = {
      path,
      container: table.container,
      layout: detected.lora ? 'lora' : detected.configs.controlnet ? `controlnet-${detected.configs.controlnet.layout}` : canonical.layout,
      family: detected.family,
      kind: kindOf(detected),
      label: detected.label,
      summary: summarizeDetected(detected),
      supported: detected.supported,
      config: detected.configs,
      dtypes,
      parameters,
      tensors,
      metadata: table.metadata,
      // A ControlNet maps through its own canonicaliser (names/controlnet-names.ts), which refuses what it cannot place.
      unmatched: detected.lora || detected.configs.controlnet ? [] : canonical.unmatched,
      dropped: canonical.dropped,
      notes: [...table.notes, ...detected.notes],
    };
    if (detected.message) report.message = detected.message;
    if (detected.configs.unet && !detected.lora) {
      const { problem: _problem, ...usability } = checkpointUsability(detected);
      report.checkpoint = usability;
    }
    if (detected.lora) {
      const { raw: _raw, ...meta } = readLoraMetadata(table);
      report.lora = { ...detected.lora, ...meta };
    }
    const embedding = detected.family === 'unknown' ? embeddingOf(table) : undefined;
    if (embedding) {
      Object.assign(report, {
        family: 'embedding',
        kind: 'embedding',
        label: 'Textual-inversion embedding',
        supported: true,
        summary: `embedding "${embedding.word}": ${embedding.vectors} vector(s) of width ${embedding.width} (${embedding.format})`,
        unmatched: [],
        embedding,
      });
      delete report.message;
    } else if (!detected.supported) {
      const code = detected.family === 'unknown' ? 'MODEL_FAMILY_UNKNOWN' : 'MODEL_FAMILY_UNSUPPORTED';
      throw new StudioError(code, detected.message ?? `${detected.label} is not supported.`, {
        path, family: detected.family, label: detected.label, container: table.container, tensors: tensors.length, unmatched: canonical.unmatched.slice(0, 20),
      });
    }
    if (options.hash && table.container !== 'diffusers-folder') report.hashes = await hashModelFile(path);
    return report;
  } finally {
    table.close();
  }
}

function formatShape(s: number[]): string {
  return `[${s.join(', ')}]`;
}

function text(r: InspectReport): string {
  const lines = [
    `${r.path}`,
    `  container   ${r.container} (${r.layout} layout)`,
    `  family      ${r.family}: ${r.label}${r.supported ? '' : ' (not supported)'}`,
    `  kind        ${r.kind}`,
    `  detected    ${r.summary}`,
    `  tensors     ${r.tensors.length}, ${r.parameters.toLocaleString('en-US')} parameters, ${Object.entries(r.dtypes).map(([d, n]) => `${d}×${n}`).join(' ')}`,
  ];
  if (r.message) lines.push(`  note        ${r.message}`);
  if (r.checkpoint) lines.push(`  usable      ${r.checkpoint.usable ? 'yes' : 'no'}: ${r.checkpoint.label} [${r.checkpoint.parts.join(', ')}]${r.checkpoint.message ? ` — ${r.checkpoint.message}` : ''}`);
  if (r.hashes) lines.push(`  sha256      ${r.hashes.sha256}`, `  AutoV2      ${r.hashes.autov2}${r.hashes.autov3 ? `   AutoV3 ${r.hashes.autov3}` : ''}`);
  for (const [component, config] of Object.entries(r.config)) lines.push(`  ${component.padEnd(11)} ${JSON.stringify(config)}`);
  if (r.lora) {
    const l = r.lora;
    lines.push(`  lora        base ${l.base}, formats ${l.formats.join(', ')}${l.motion ? ', motion LoRA' : ''}`);
    if (l.title) lines.push(`  title       ${l.title}`);
    if (l.baseModelVersion) lines.push(`  trained on  ${l.baseModelVersion}`);
    if (l.networkModule || l.networkDim) lines.push(`  network     ${l.networkModule ?? '?'} dim ${l.networkDim ?? '?'} alpha ${l.networkAlpha ?? '?'}`);
    if (l.triggerWords.length) lines.push(`  triggers    ${l.triggerWords.join(', ')}`);
    if (l.thumbnail) lines.push(`  thumbnail   embedded (${l.thumbnail.length} characters)`);
  }
  const md = Object.entries(r.metadata).filter(([k]) => k !== 'modelspec.thumbnail');
  if (md.length) {
    lines.push(`  metadata    ${md.length} field(s)`);
    for (const [k, v] of md.slice(0, 40)) lines.push(`    ${k} = ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`);
  }
  for (const n of r.notes) lines.push(`  note        ${n}`);
  if (r.unmatched.length) {
    lines.push(`  unmatched   ${r.unmatched.length} key(s) not used:`);
    for (const k of r.unmatched.slice(0, 30)) lines.push(`    ${k}`);
    if (r.unmatched.length > 30) lines.push(`    … and ${r.unmatched.length - 30} more`);
  }
  if (r.dropped.length) lines.push(`  dropped     ${r.dropped.length} buffer/EMA key(s) ignored on purpose`);
  lines.push('  first tensors:');
  for (const t of r.tensors.slice(0, 10)) lines.push(`    ${t.name} ${t.dtype} ${formatShape(t.shape)}`);
  return lines.join('\n');
}

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'Show what a model file or folder is: container, family, config, dtypes, metadata, hashes',
  usage: 'inspect <file|folder> [--json] [--no-hash]',
  async run(args, io) {
    const p = parseArgs(args, ['json', 'no-hash']);
    const path = p.positionals[0];
    if (!path) {
      io.stderr(`Usage: npm run cli -- ${inspectCommand.usage}`);
      return 2;
    }
    const report = await inspectModel(path, { hash: !p.bools.has('no-hash') });
    io.stdout(p.bools.has('json') ? JSON.stringify(report) : text(report));
    return 0;
  },
};
