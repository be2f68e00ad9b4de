import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../../src/main/formats/png';
import { starterModel, STARTER_UNET } from '../../../src/main/engine/starter/starter-model';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase } from '../../../src/main/store/database';
import type { ControlNetUnit } from '../../../src/shared/domain/controlnet';
import { cli } from '../cli-in-process';
import { writeStarterFiles } from '../pipeline/starter-files';
import { writeTestControlNet } from './test-controlnet-file';

/**
 * `generate --controlnet … --control …` end to end on real files (the starter model written as a creator's
 * checkpoint, a ControlNet built for it, PNG control inputs): the clip changes with the control, the history
 * records each unit with its file and input hashes, several units work together, and bad input is refused before
 * anything is recorded or written.
 */

const SMALL = ['--prompt', 'a paper boat', '--width', '64', '--height', '64', '--frames', '4', '--steps', '2', '--seed', '5', '--guidance', '1.5'];
let root: string;
let data: string;
let files: { model: string; motion: string };
let cn: string;
let image: string;

function png(path: string, w: number, h: number, f: (x: number, y: number) => [number, number, number]): string {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(f(x, y), (y * w + x) * 3);
  writeFileSync(path, encodePng(rgb, w, h));
  return path;
}
const frames = (dir: string): Buffer[] => readdirSync(dir).filter((n) => n.endsWith('.png')).sort().map((n) => readFileSync(join(dir, n)));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const base = (): string[] => ['generate', ...SMALL, '--model', files.model, '--motion', files.motion, '--data-dir', data, '--json'];
async function recordCount(): Promise<number> {
  const db = openDatabase(data);
  try {
    return (await new HistoryService(db).listGenerations({})).total;
  } finally {
    db.close();
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'controlnet-cli-'));
  data = join(root, 'data');
  files = writeStarterFiles(root);
  cn = writeTestControlNet(join(root, 'cn'), starterModel().unet, STARTER_UNET);
  image = png(join(root, 'control.png'), 80, 72, (x, y) => ((x - 40) ** 2 + (y - 36) ** 2 < 400 ? [250, 250, 250] : x > 60 ? [200, 30, 30] : [10, 10, 40]));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('generate with ControlNet units', () => {
  it('an image with canny steers the clip; the history records the unit with its hashes; a rerun is byte-identical', async () => {
    const plain = await cli(...base(), '--out', join(root, 'plain'));
    expect(plain.code, plain.err).toBe(0);
    const args = [...base(), '--controlnet', cn, '--control', image, '--preprocess', 'canny', '--control-scale', '0.9', '--control-end', '0.5'];
    const r = await cli(...args, '--out', join(root, 'c1'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/resized to 64×64/);
    const j = JSON.parse(r.out) as { historyId: number; params: { controlNets: ControlNetUnit[] } };
    expect(j.params.controlNets).toHaveLength(1);
    expect(frames(join(root, 'c1'))).not.toEqual(frames(join(root, 'plain')));
    const db = openDatabase(data);
    try {
      const rec = await new HistoryService(db).getGeneration(j.historyId);
      const unit = rec.params.controlNets![0];
      expect(unit).toMatchObject({ model: cn, control: image, scale: 0.9, start: 0, end: 0.5, preprocess: 'canny', modelSha256: sha(cn), controlSha256: sha(image) });
    } finally {
      db.close();
    }
    const again = await cli(...args, '--out', join(root, 'c2'));
    expect(again.code, again.err).toBe(0);
    expect(frames(join(root, 'c2'))).toEqual(frames(join(root, 'c1')));
    // The exported params (PNG text / params.json) carry the unit.
    expect(JSON.parse(readFileSync(join(root, 'c1', 'params.json'), 'utf8')).controlNets[0].controlSha256).toBe(sha(image));
  }, 240_000);

  it('two units with their own inputs, scales and windows; a folder of frames, one per clip frame', async () => {
    const dir = join(root, 'frames');
    mkdirSync(dir);
    for (let f = 0; f < 4; f++) png(join(dir, `f${f + 1}.png`), 64, 64, (x) => (x < 16 * (f + 1) ? [255, 255, 255] : [0, 0, 0]));
    const r = await cli(...base(), '--controlnet', cn, '--control', image, '--preprocess', 'canny', '--controlnet', cn, '--control', dir, '--control-scale', '0.5', '--control-start', '0.5', '--out', join(root, 'two'));
    expect(r.code, r.err).toBe(0);
    const units = (JSON.parse(r.out) as { params: { controlNets: ControlNetUnit[] } }).params.controlNets;
    expect(units.map((u) => [u.preprocess, u.scale, u.start, u.end])).toEqual([
      ['canny', 1, 0, 1],
      ['none', 0.5, 0.5, 1],
    ]);
    expect(frames(join(root, 'two'))).toHaveLength(4);
  }, 240_000);

  it('refuses bad input before recording anything: not a ControlNet, an SDXL ControlNet, a corrupt image, too few frames (folder, video), mixed sizes, flags out of place', async () => {
    const before = await recordCount();
    const fail = async (extra: string[], re: RegExp): Promise<void> => {
      const r = await cli(...base(), ...extra, '--out', join(root, 'never'));
      expect(r.code).not.toBe(0);
      expect(`${r.err}${r.out}`).toMatch(re);
    };
    await fail(['--controlnet', files.model, '--control', image], /unit 1.*not an SD1\.5 ControlNet/);
    // An SDXL ControlNet (its add_embedding gives it away) is named as such.
    const sdxl = writeTestControlNet(join(root, 'cn-sdxl'), starterModel().unet, STARTER_UNET, 11, [{ name: 'add_embedding.linear_1.weight', shape: [8, 16] }]);
    await fail(['--controlnet', sdxl, '--control', image], /unit 1.*SDXL ControlNet.*SD1\.5 ControlNets/);
    const corrupt = join(root, 'corrupt.png');
    writeFileSync(corrupt, Buffer.from('\x89PNG\r\n\x1a\nthis is not a picture'));
    await fail(['--controlnet', cn, '--control', corrupt], /unit 1.*corrupt\.png/);
    const short = join(root, 'short');
    mkdirSync(short);
    png(join(short, 'a.png'), 64, 64, () => [1, 2, 3]);
    png(join(short, 'b.png'), 64, 64, () => [1, 2, 3]);
    await fail(['--controlnet', cn, '--control', short], /2 frames but the clip has 4/);
    const shortVideo = join(root, 'short.mkv');
    expect(spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=8', '-frames:v', '3', '-c:v', 'ffv1', shortVideo]).status).toBe(0);
    await fail(['--controlnet', cn, '--control', shortVideo], /unit 1 \(short\.mkv\): The control video has 3 frames but the clip has 4/);
    const mixed = join(root, 'mixed');
    mkdirSync(mixed);
    png(join(mixed, 'a.png'), 64, 64, () => [1, 2, 3]);
    png(join(mixed, 'b.png'), 32, 64, () => [1, 2, 3]);
    await fail(['--controlnet', cn, '--control', mixed], /differ in size/);
    await fail(['--control', image], /after --controlnet/);
    await fail(['--controlnet', cn], /needs its conditioning input/);
    await fail(['--controlnet', cn, '--control', image, '--preprocess', 'depth'], /canny or none.*Depth/);
    await fail(['--controlnet', cn, '--control', image, '--control-start', '0.6', '--control-end', '0.4'], /must be below/);
    expect(await recordCount()).toBe(before);
    expect(readdirSync(root)).not.toContain('never');
  }, 240_000);
});
