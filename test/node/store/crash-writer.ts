/**
 * Child process for crash.test.ts: a busy studio that gets SIGKILLed at random moments. It does what the
 * generation queue will do — queue, run, write frames to a temp folder and rename, record done — plus favourites,
 * failures and deletes, and prints a line (synchronously, so a printed line means it happened) after each commit:
 *   ready | committed <id> <frames> | failed <id> | deleting <id> | deleted <id>
 */
import { writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { commitOutputDir, createTemporaryDir, writeFileAtomic } from '../../../src/main/store/atomic-files';
import { openDatabase } from '../../../src/main/store/database';
import { HistoryService } from '../../../src/main/services/history-service';
import { DEFAULT_PARAMS } from '../../../src/shared/domain/generation';
import { StudioError } from '../../../src/shared/errors';

const [dataDir, seedArg] = process.argv.slice(2);
let state = Number(seedArg) >>> 0 || 1;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const say = (line: string) => writeSync(1, line + '\n');

async function main(): Promise<void> {
  const db = openDatabase(dataDir);
  const history = new HistoryService(db);
  const meta = { noise: { name: 'torch-cpu-randn', version: '1' }, engineVersion: 'crash-test' };
  say('ready');
  const done: number[] = [];
  for (let n = 0; ; n++) {
    const frames = 2 + Math.floor(rand() * 6);
    const g = await history.createGeneration({ ...DEFAULT_PARAMS, prompt: `crash test ${seedArg} #${n}`, seed: n, frames }, meta);
    await history.markRunning(g.id);
    if (rand() < 0.1) {
      await history.markFailed(g.id, new StudioError('INFERENCE_FAILED', 'simulated'));
      say(`failed ${g.id}`);
      continue;
    }
    const final = history.outputDirFor(g.id);
    const tmp = await createTemporaryDir(final);
    for (let f = 0; f < frames; f++) writeFileSync(join(tmp, `${String(f).padStart(4, '0')}.png`), Buffer.alloc(24_000, (g.id + f) & 0xff));
    await commitOutputDir(tmp, final);
    await writeFileAtomic(join(final, 'clip.mp4'), Buffer.alloc(50_000, g.id & 0xff));
    await history.markDone(g.id, { framesDir: final, frameCount: frames, videos: [join(final, 'clip.mp4')], thumbnail: join(final, '0000.png') }, { denoise: n });
    say(`committed ${g.id} ${frames}`);
    done.push(g.id);
    if (rand() < 0.3) await history.setFavourite(g.id, true);
    if (done.length > 3 && rand() < 0.25) {
      const victim = done.splice(Math.floor(rand() * done.length), 1)[0];
      say(`deleting ${victim}`);
      await history.deleteGeneration(victim);
      say(`deleted ${victim}`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`writer failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(3);
});
