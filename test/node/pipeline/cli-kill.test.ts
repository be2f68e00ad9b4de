/**
 * `generate --out x.mp4|gif|webm` killed with SIGKILL at different moments (real CLI processes: start-up,
 * denoising, writing frames, encoding the video), then one more ordinary run into another folder. Afterwards there
 * must be no scratch folder (in the data folder or the system temp folder), no `.tmp-*` file beside the videos,
 * no temporaries in the data folder and no leftover records of them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase } from '../../../src/main/store/database';
import { dataLayout } from '../../../src/main/store/layout';
import { processAlive } from '../../../src/main/store/process-owner';
import { finished, REPO, spawnCli } from '../cli-process';

const root = mkdtempSync(join(tmpdir(), 'cli-kill-'));
const data = join(root, 'data');
const videos = join(root, 'videos');
// The CLI's own temp folder, so scratch it might leave there is seen (and nobody else's is).
const systemTmp = join(root, 'system-tmp');
mkdirSync(videos);
mkdirSync(systemTmp);
const env = { ...process.env, TMPDIR: systemTmp, TMP: systemTmp, TEMP: systemTmp };
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BASE = ['--prompt', 'a fox in the snow', '--frames', '4', '--width', '64', '--height', '64', '--steps', '2', '--data-dir', data];

/** The processes a CLI process started (engine worker, ffmpeg), so the test can wait for orphans to end. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function gone(pids: number[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (pids.some(processAlive)) {
    if (Date.now() > end) throw new Error(`processes ${pids.filter(processAlive).join(', ')} outlived their CLI`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** When to kill: `delayMs` after spawn, after a stderr line matching `after`, or after this run's `.tmp-` file appears beside the video. */
interface Kill {
  out: string;
  after?: RegExp | 'temporary';
  delayMs: number;
  extra?: string[];
}

const KILLS: Kill[] = [
  { out: 'k1.mp4', delayMs: 1500 }, // start-up: tsx, opening the history, starting the worker
  { out: 'k2.gif', after: /^step 1\//m, delayMs: 0 }, // denoising
  { out: 'k3.webm', after: /^decoded/m, delayMs: 0 }, // writing frames
  { out: 'k4.mp4', after: /^wrote \d+ frames/m, delayMs: 0 }, // starting the export
  { out: 'k5.gif', after: 'temporary', delayMs: 0 }, // encoding into the temporary file
  { out: 'k6.mp4', after: 'temporary', delayMs: 30 },
  { out: 'k7.mp4', after: 'temporary', delayMs: 0, extra: ['--no-history'] }, // scratch frames, no record
  { out: 'k8.webm', after: 'temporary', delayMs: 20, extra: ['--no-history'] },
];

async function runAndKill(k: Kill): Promise<{ killed: boolean }> {
  const child = spawnCli(['generate', ...BASE, ...(k.extra ?? []), '--out', join(videos, k.out)], env);
  const result = finished(child);
  const pid = child.pid!;
  const seen = new Set<number>();
  const watch = setInterval(() => childrenOf(pid).forEach((c) => seen.add(c)), 5);
  let stderr = '';
  await new Promise<void>((resolve) => {
    let fired = false;
    const fire = (): void => {
      if (fired) return;
      fired = true;
      setTimeout(() => {
        childrenOf(pid).forEach((c) => seen.add(c));
        child.kill('SIGKILL');
        resolve();
      }, k.delayMs);
    };
    child.on('exit', () => resolve());
    if (!k.after) fire();
    else if (k.after === 'temporary') {
      const poll = setInterval(() => {
        if (marked(videos).some((n) => n.endsWith(`-${k.out}`))) fire();
        if (fired) clearInterval(poll);
      }, 2);
      child.on('exit', () => clearInterval(poll));
    } else {
      const after = k.after;
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (after.test(stderr)) fire();
      });
    }
  });
  const r = await result;
  clearInterval(watch);
  await gone([...seen]);
  return { killed: r.signal === 'SIGKILL' };
}

function marked(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.tmp-') || n.startsWith('.deleting-')) : [];
}

describe('CLI generate killed with SIGKILL, again and again', () => {
  it('leaves no scratch folder and no temporary file once the studio starts again', async () => {
    // Compile the starter model once, so every kill below lands in a real generation.
    const warm = await finished(spawnCli(['generate', ...BASE, '--out', join(root, 'warm')], env));
    expect(warm.code, warm.stderr).toBe(0);

    let killed = 0;
    for (const k of KILLS) if ((await runAndKill(k)).killed) killed++;
    expect(killed).toBeGreaterThanOrEqual(KILLS.length - 1);

    // The kills did leave work behind (a kill during encoding always leaves its temporary: only the CLI renames it).
    const layout = dataLayout(data);
    const scratchLeft = existsSync(layout.scratch) ? readdirSync(layout.scratch) : [];
    expect(marked(videos).length + scratchLeft.length).toBeGreaterThan(0);

    mkdirSync(join(root, 'after'));
    const again = await finished(spawnCli(['generate', ...BASE, '--out', join(root, 'after', 'after.mp4')], env));
    expect(again.signal).toBeNull();
    expect(again.code, again.stderr).toBe(0);

    expect(marked(videos)).toEqual([]);
    expect(readdirSync(systemTmp).filter((n) => n.startsWith('animatelcm-'))).toEqual([]);
    expect(existsSync(layout.scratch) ? readdirSync(layout.scratch) : []).toEqual([]);
    for (const dir of [layout.root, layout.outputs, layout.exports]) expect(marked(dir), dir).toEqual([]);
    expect(existsSync(layout.tempPlaces) ? readdirSync(layout.tempPlaces) : []).toEqual([]);
    // Whatever was not finished is not in the output folder as a video either: only complete files are there.
    for (const n of readdirSync(videos)) expect(n).toMatch(/^k\d\.(mp4|gif|webm)$/);
  }, 300_000); // ten CLI processes: 40–90 s on the shared 2-core machine

  it('Ctrl-C (SIGINT to the whole process group, as a terminal sends it) cancels: exit 1, record cancelled, no output', async () => {
    const out = join(videos, 'ctrl-c.mp4');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'generate', ...BASE, '--steps', '8', '--out', out, '--json'], {
      cwd: REPO,
      env,
      detached: true, // its own process group, so the signal reaches the worker too, as in a terminal
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = finished(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      const before = stderr;
      stderr += d.toString();
      if (!/^step 2\//m.test(before) && /^step 2\//m.test(stderr)) process.kill(-child.pid!, 'SIGINT');
    });
    const r = await result;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('CANCELLED');
    expect(existsSync(out)).toBe(false);
    const db = openDatabase(data, { readonly: true });
    try {
      const [latest] = (await new HistoryService(db).listGenerations({ limit: 1 })).items;
      expect(latest).toMatchObject({ status: 'cancelled', outputs: null });
      expect(existsSync(join(data, 'outputs', String(latest.id)))).toBe(false);
    } finally {
      db.close();
    }
    expect(marked(videos)).toEqual([]);
  });
});
