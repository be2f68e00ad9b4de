import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generationParams } from '../../../src/shared/api-validation';
import { frameFiles, makeHarness, tinyParams, type Harness } from '../generation/helpers';

/** The queue with image/video inputs: stored by hash, decoded by the service, re-run exactly from the stored copy. */
const src = mkdtempSync(join(tmpdir(), 'i2v-svc-src-'));
let h: Harness;
beforeAll(() => {
  h = makeHarness();
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=50x30', '-frames:v', '1', join(src, 'pic.png')]);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=70x40:rate=9', '-t', '1', join(src, 'clip.mp4')]);
});
afterAll(async () => {
  await h.close();
  rmSync(src, { recursive: true, force: true });
});

describe('GenerationService with inputs', () => {
  it('API validation accepts image and video inputs and refuses a wrong kind or strength', () => {
    const p = tinyParams({ input: { kind: 'image', path: '/x.png', motionScale: 0.8, colorMatch: true } });
    expect(generationParams(p, 'params').input).toEqual(p.input);
    expect(() => generationParams({ ...p, input: { kind: 'audio', path: '/x' } }, 'params')).toThrow(/image.*video/);
    expect(() => generationParams({ ...p, input: { kind: 'video', path: '/x', strength: 3 } }, 'params')).toThrow();
  });

  it('image-to-video: the input is copied into <data>/inputs by hash; the original may go; re-run exact is byte-identical', async () => {
    const pic = join(src, 'pic.png');
    const sha = createHash('sha256').update(readFileSync(pic)).digest('hex');
    const job = await h.queue.enqueue(tinyParams({ input: { kind: 'image', path: pic, motionScale: 0.5, colorMatch: true }, guidance: 1, seed: 4 }));
    const view = await h.queue.settled(job.jobId);
    expect(view.status, JSON.stringify(view.error)).toBe('done');
    const rec = await h.history.getGeneration(job.generationId);
    expect(rec.params.input).toMatchObject({ kind: 'image', sha256: sha, path: join(h.dataDir, 'inputs', `${sha}.png`) });
    // The decoded scratch files are gone; the stored copy stays.
    expect(existsSync(join(h.dataDir, 'cache', 'decoded-inputs', job.jobId))).toBe(false);
    writeFileSync(pic, 'replaced');
    const again = await h.queue.rerunExact(job.generationId);
    expect((await h.queue.settled(again.jobId)).status).toBe('done');
    const a = frameFiles(rec.outputs!.framesDir!);
    const b = frameFiles((await h.history.getGeneration(again.generationId)).outputs!.framesDir!);
    expect(b.length).toBe(2);
    b.forEach((buf, i) => expect(buf.equals(a[i])).toBe(true));
  }, 120_000);

  it('video-to-video runs; too few frames fails the job with the reason and no output', async () => {
    const ok = await h.queue.enqueue(tinyParams({ input: { kind: 'video', path: join(src, 'clip.mp4'), strength: 0.5 }, steps: 2, fps: 4 }));
    expect((await h.queue.settled(ok.jobId)).status).toBe('done');
    const bad = await h.queue.enqueue(tinyParams({ input: { kind: 'video', path: join(src, 'clip.mp4'), strength: 1 }, frames: 30, fps: 8 }));
    const v = await h.queue.settled(bad.jobId);
    expect(v.status).toBe('failed');
    expect(v.error?.message).toMatch(/the clip needs 30/);
    expect(existsSync(join(h.dataDir, 'outputs', String(bad.generationId)))).toBe(false);
  }, 120_000);
});
