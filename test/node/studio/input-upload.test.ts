/**
 * Generate's drop zone / picker: a picture or clip uploaded through the real services becomes a generation input
 * stored under its hash in <data>/inputs, with a thumbnail the media rules serve; a file ffmpeg cannot read a frame
 * from (a text file called .png, a truncated PNG) is refused with an error naming it, and nothing is stored.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodePng } from '../../../src/main/formats/png';
import { resolveMediaFile } from '../../../src/main/services/media-access';
import { createStudioServices, invokeApi, type StudioServices } from '../../../src/main/services/studio-services';

const PNG = 'test/fixtures/reference/pipeline_animatelcm_i2v/input_image.png';

async function upload(services: StudioServices, name: string, bytes: Buffer, kind: 'image' | 'video') {
  const { uploadId } = await services.beginUpload(name, bytes.length);
  await services.uploadChunk(uploadId, 0, bytes.toString('base64'));
  return services.finishInputUpload(uploadId, kind);
}

describe('uploaded generation inputs', () => {
  let dir: string;
  let services: StudioServices;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'animatelcm-input-upload-'));
    services = createStudioServices({ dataDir: dir, mode: 'web' });
  });
  afterEach(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an uploaded PNG under its hash with a servable thumbnail, and the upload goes', async () => {
    const bytes = readFileSync(PNG);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const stored = await upload(services, 'face.png', bytes, 'image');
    expect(stored).toMatchObject({ kind: 'image', sha256: sha, name: 'face.png', path: join(dir, 'inputs', `${sha}.png`) });
    expect(readFileSync(stored.path).equals(bytes)).toBe(true);
    const thumb = decodePng(readFileSync(stored.thumbnail));
    // 20×26 fitted into 256×256 keeps the aspect: the long side fills it.
    expect([thumb.width, thumb.height]).toEqual([197, 256]);
    expect((await resolveMediaFile(services.mediaRoots(), stored.thumbnail)).contentType).toBe('image/png');
    expect((await resolveMediaFile(services.mediaRoots(), stored.path)).contentType).toBe('image/png');
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
    // The same picture again is the same stored input.
    expect((await upload(services, 'again.png', bytes, 'image')).path).toBe(stored.path);
  });

  it('stores an uploaded clip and thumbnails its first frame', async () => {
    const clip = join(dir, 'clip.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=8:duration=1', '-pix_fmt', 'yuv420p', clip]);
    expect(made.status).toBe(0);
    const stored = await upload(services, 'clip.mp4', readFileSync(clip), 'video');
    expect(stored.path.endsWith(`${stored.sha256}.mp4`)).toBe(true);
    const thumb = decodePng(readFileSync(stored.thumbnail));
    expect([thumb.width, thumb.height]).toEqual([256, 192]);
  });

  it('refuses a text file as an image and a truncated PNG, naming the file, storing nothing', async () => {
    await expect(upload(services, 'notes.png', Buffer.from('not a picture\n'), 'image')).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      message: expect.stringMatching(/^notes\.png could not be read as an image .*Use a PNG, JPEG or WebP picture\.$/),
    });
    const truncated = readFileSync(PNG).subarray(0, 300);
    await expect(upload(services, 'cut.png', truncated, 'image')).rejects.toMatchObject({ code: 'INVALID_PARAMS', message: expect.stringMatching(/^cut\.png could not be read/) });
    await expect(upload(services, 'still.mp4', Buffer.from('x'.repeat(64)), 'video')).rejects.toThrow(/still\.mp4 could not be read as a video/);
    // A JPEG cut short decodes to a grey-filled half picture unless ffmpeg is told to stop at the damage.
    const cutJpeg = readFileSync('test/fixtures/inputs/truncated.jpg');
    await expect(upload(services, 'cut.jpg', cutJpeg, 'image')).rejects.toMatchObject({ code: 'INVALID_PARAMS', message: expect.stringMatching(/^cut\.jpg could not be read as an image/) });
    const sound = join(dir, 'sound.m4a');
    spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=0.3', sound]);
    await expect(upload(services, 'song.m4a', readFileSync(sound), 'video')).rejects.toThrow(/^song\.m4a has no video stream \(only sound\)\. Use an MP4, WebM, MOV or GIF clip\.$/);
    expect(readdirSync(join(dir, 'inputs')).filter((n) => n !== 'thumbnails')).toEqual([]);
    expect(readdirSync(join(dir, 'inputs', 'thumbnails'))).toEqual([]);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
  });

  it('the wire contract takes only image or video', async () => {
    const { uploadId } = await services.beginUpload('a.png', 4);
    expect(await invokeApi(services, 'finishInputUpload', [uploadId, 'audio'])).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(existsSync(join(dir, 'inputs'))).toBe(false);
  });
});
