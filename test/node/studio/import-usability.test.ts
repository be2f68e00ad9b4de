/**
 * Import says exactly what a checkpoint is and whether it can run, before it is offered anywhere: a UNet alone,
 * a checkpoint without its VAE or text encoder, a text encoder with a foreign vocabulary and an SDXL model are
 * library items marked unusable (with the reason), never offered as the generation's model, and refused by the
 * engine with the same words instead of a raw onnxruntime error. Files are the starter model's, cut down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult, LibraryItem } from '../../../src/shared/domain/library';
import { writeSafetensors, type TensorToWrite } from '../../../src/main/compiler/io/safetensors';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { fileSource } from '../../../src/main/engine/models/model-source';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { LibraryService } from '../../../src/main/services/library-service';
import { createStudioServices, invokeApi, type StudioServices } from '../../../src/main/services/studio-services';
import { openDatabase } from '../../../src/main/store/database';
import { LibraryStore } from '../../../src/main/store/library-store';
import { cli } from '../cli-in-process';
import { writeStarterFiles } from '../pipeline/starter-files';

const s = starterModel();
const tensors = (w: WeightSet, prefix: string): TensorToWrite[] =>
  w.names().map((n) => {
    const v = w.get(n)!;
    return { name: `${prefix}${n}`, dtype: 'F32', shape: v.shape, data: v.readF32() };
  });
const CONFIGS = {
  'unet.config': JSON.stringify(s.configs.unet),
  'vae.config': JSON.stringify(s.configs.vae),
  'text_encoder.config': JSON.stringify(s.configs.text_encoder),
};

/** The starter text encoder with its 49,408-token embedding swapped for a 1,000-token one. */
function smallVocabTextEncoder(): TensorToWrite[] {
  return tensors(s.text_encoder, 'text_encoder.').map((t) =>
    t.name.endsWith('token_embedding.weight') ? { ...t, shape: [1000, t.shape[1]], data: new Float32Array(1000 * t.shape[1]).fill(0.01) } : t,
  );
}

let root: string;
let files: Record<'full' | 'unetOnly' | 'noVae' | 'noTextEncoder' | 'vocab1000' | 'sdxl', string>;
let motion: string;
let services: StudioServices;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'import-usability-'));
  const starter = writeStarterFiles(root);
  motion = starter.motion;
  const write = (name: string, t: TensorToWrite[]): string => {
    const p = join(root, `${name}.safetensors`);
    writeSafetensors(p, t, CONFIGS);
    return p;
  };
  const unet = tensors(s.unet, 'unet.');
  const vae = tensors(s.vae, 'vae.');
  const te = tensors(s.text_encoder, 'text_encoder.');
  files = {
    full: starter.model,
    unetOnly: write('unet-only', unet),
    noVae: write('no-vae', [...unet, ...te]),
    noTextEncoder: write('no-text-encoder', [...unet, ...vae]),
    vocab1000: write('vocab-1000', [...unet, ...vae, ...smallVocabTextEncoder()]),
    // SDXL's UNet carries add_embedding (time ids + pooled text); its presence alone marks the family.
    sdxl: write('sdxl', [...unet, ...vae, ...te, { name: 'unet.add_embedding.linear_1.weight', dtype: 'F32', shape: [8, 8], data: new Float32Array(64) }]),
  };
  services = createStudioServices({ dataDir: join(root, 'data'), mode: 'web' });
});
afterAll(async () => {
  await services.close();
  rmSync(root, { recursive: true, force: true });
});

async function importViaApi(path: string): Promise<LibraryItem> {
  const res = await invokeApi(services, 'importFile', [path]);
  if (!res.ok) throw new Error(`${path}: ${res.error.code} ${res.error.message}`);
  return (res.value as ImportResult).item;
}

describe('checkpoint completeness and usability, decided at import', () => {
  it('each file is a library item that says exactly what it is and whether it can be used', async () => {
    const expected: Record<keyof typeof files, { supported: boolean; label: string; message: RegExp | null }> = {
      full: { supported: true, label: 'Checkpoint with UNet, VAE and text encoder (not SD1.5-sized)', message: null },
      unetOnly: { supported: false, label: 'UNet only (no VAE, no text encoder)', message: /holds only a UNet, without a VAE or a text encoder\. AnimateLCM needs a full SD1\.5 checkpoint/ },
      noVae: { supported: false, label: 'UNet + text encoder (no VAE)', message: /holds a UNet and a text encoder, without a VAE\./ },
      noTextEncoder: { supported: false, label: 'UNet + VAE (no text encoder)', message: /holds a UNet and a VAE, without a text encoder\./ },
      vocab1000: { supported: false, label: 'Checkpoint with UNet, VAE and text encoder (not SD1.5-sized; text encoder with a 1,000-token vocabulary)', message: /1,000-token vocabulary.*49,408/ },
      sdxl: { supported: false, label: 'Stable Diffusion XL model', message: /SDXL model\. AnimateLCM needs a Stable Diffusion 1\.5 model/ },
    };
    for (const [key, want] of Object.entries(expected) as [keyof typeof files, (typeof expected)[keyof typeof files]][]) {
      const item = await importViaApi(files[key]);
      expect(item.kind, key).toBe('checkpoint');
      expect(item.familyLabel, key).toBe(want.label);
      expect(item.supported, key).toBe(want.supported);
      if (want.message) expect(item.supportMessage, key).toMatch(want.message);
      else expect(item.supportMessage, key).toBeNull();
    }
  }, 120_000);

  it('the API offers only usable checkpoints as generation models', async () => {
    const usable = await invokeApi(services, 'listModels', [{ kind: 'checkpoint', supported: true }]);
    expect(usable.ok && (usable.value as LibraryItem[]).map((i) => i.path)).toEqual([files.full]);
    const unusable = await invokeApi(services, 'listModels', [{ supported: false }]);
    expect(unusable.ok && (unusable.value as LibraryItem[]).map((i) => i.path).sort()).toEqual(
      [files.unetOnly, files.noVae, files.noTextEncoder, files.vocab1000, files.sdxl].sort(),
    );
  });

  it('the engine refuses the same files with the same words, never reaching onnxruntime', () => {
    const refusal = (model: string): { code?: string; message: string } => {
      try {
        fileSource({ model, motion }).close();
      } catch (e) {
        return e as { code?: string; message: string };
      }
      throw new Error(`${model} was accepted`);
    };
    expect(refusal(files.vocab1000)).toMatchObject({ code: 'MODEL_SHAPE_MISMATCH', message: expect.stringMatching(/1,000-token vocabulary/) });
    expect(refusal(files.unetOnly)).toMatchObject({ code: 'MODEL_KEYS_MISSING', message: expect.stringMatching(/UNet only \(no VAE, no text encoder\)/) });
    expect(refusal(files.noTextEncoder)).toMatchObject({ code: 'MODEL_KEYS_MISSING' });
    expect(refusal(files.sdxl)).toMatchObject({ code: 'MODEL_FAMILY_UNSUPPORTED' });
    const ok = fileSource({ model: files.full, motion });
    ok.close();
  });

  it('an item recorded as usable under older rules is corrected when the file is imported again', async () => {
    const db = openDatabase(join(root, 'old-data'));
    try {
      const lib = new LibraryService(db);
      const { item } = await lib.importFile(files.unetOnly);
      // What the library recorded before completeness was checked.
      new LibraryStore(db).reclassify(item.id, { family: 'unet', familyLabel: 'UNet', supported: true, supportMessage: null });
      const again = await lib.importFile(files.unetOnly);
      expect(again.existing).toBe(true);
      expect(again.item).toMatchObject({ id: item.id, supported: false, familyLabel: 'UNet only (no VAE, no text encoder)' });
    } finally {
      db.close();
    }
  });

  it('the CLI reports an SDXL import as not usable (not "Imported") and inspect adds the checkpoint verdict', async () => {
    const data = join(root, 'cli-data');
    const res = await cli('library', 'import', files.sdxl, '--data-dir', data);
    expect(res.code).toBe(0);
    expect(res.out).not.toMatch(/Imported/);
    expect(res.out).toMatch(/^Added, not usable: #1 sdxl \(checkpoint, Stable Diffusion XL model/);
    expect(res.out).toMatch(/Cannot be used: This is an SDXL model/);

    const inspected = await cli('inspect', files.noVae, '--json', '--no-hash');
    expect(inspected.code).toBe(0);
    const report = JSON.parse(inspected.out) as { supported: boolean; checkpoint: { usable: boolean; label: string; parts: string[] } };
    expect(report.checkpoint).toMatchObject({ usable: false, label: 'UNet + text encoder (no VAE)', parts: ['unet', 'text_encoder'] });
  });
});
