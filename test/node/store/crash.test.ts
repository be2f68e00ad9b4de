/**
 * Crash safety under SIGKILL: a writer child (crash-writer.ts) is killed at seeded random moments, many times,
 * on the same data folder. Afterwards the database must pass integrity_check, nothing the writer reported as
 * committed may be lost, and no finished record may point at a missing or partial file.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/store/database';
import { GenerationsStore } from '../../../src/main/store/generations-store';
import { HERE, tempDataDir } from './helpers';

const KILLS = 21;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Log {
  committed: Map<number, number>;
  deleting: Set<number>;
  deleted: Set<number>;
  failed: Set<number>;
}

/**
 * When the kill clock starts: at spawn (the kill may land in start-up, open, migrations or recovery), when the
 * writer is ready (anywhere in its loop), or after its first commit (so every run also commits something).
 */
type Trigger = 'spawn' | 'ready' | 'committed';

/** Run one writer and SIGKILL it `delayMs` after `trigger`. Resolves when it is dead. */
function runAndKill(dataDir: string, seed: number, trigger: Trigger, delayMs: number, log: Log): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'crash-writer.ts'), dataDir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let armed = false;
    const arm = () => {
      if (armed) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    if (trigger === 'spawn') arm();
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [what, id, frames] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (what === 'ready' && trigger === 'ready') arm();
        else if (what === 'committed') {
          log.committed.set(Number(id), Number(frames));
          if (trigger === 'committed') arm();
        }
        else if (what === 'deleting') log.deleting.add(Number(id));
        else if (what === 'deleted') log.deleted.add(Number(id));
        else if (what === 'failed') log.failed.add(Number(id));
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
}

describe('crash safety (SIGKILL during writes)', () => {
  let dir: string;
  let cleanup: () => void;
  const log: Log = { committed: new Map(), deleting: new Set(), deleted: new Set(), failed: new Set() };
  const signals: (NodeJS.Signals | null)[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = tempDataDir('crash-'));
    const rand = mulberry32(0xa11c5);
    const triggers: Trigger[] = ['ready', 'committed', 'spawn'];
    for (let i = 0; i < KILLS; i++) {
      const trigger = triggers[i % 3];
      const delay = trigger === 'spawn' ? 200 + Math.floor(rand() * 900) : Math.floor(rand() * 160);
      const r = await runAndKill(join(dir, 'data'), i + 1, trigger, delay, log);
      if (r.signal !== 'SIGKILL') throw new Error(`writer ${i} ended without being killed: ${r.stderr}`);
      signals.push(r.signal);
    }
  }, 240_000);
  afterAll(() => cleanup());

  it('was killed mid-work many times and still committed work', () => {
    expect(signals).toHaveLength(KILLS);
    process.stdout.write(`crash test: ${KILLS} kills, ${log.committed.size} committed, ${log.deleted.size} deleted, ${log.failed.size} failed\n`);
    // Every third run is killed only after it committed at least once.
    expect(log.committed.size).toBeGreaterThanOrEqual(Math.floor(KILLS / 3));
  });

  it('passes integrity_check and keeps every committed record with complete files', () => {
    const db = openDatabase(join(dir, 'data'));
    try {
      expect(db.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(() => db.sqlite.prepare("INSERT INTO generations_fts(generations_fts) VALUES ('integrity-check')").run()).not.toThrow();
      expect(db.sqlite.pragma('foreign_key_check')).toEqual([]);
      const store = new GenerationsStore(db);

      for (const [id, frames] of log.committed) {
        const rec = store.get(id);
        if (log.deleted.has(id)) {
          expect(rec, `deleted #${id}`).toBeUndefined();
          continue;
        }
        if (log.deleting.has(id) && rec === undefined) continue; // killed after the delete committed, before it printed
        expect(rec, `committed #${id}`).toBeDefined();
        expect(rec!.status).toBe('done');
        expect(rec!.outputs!.frameCount).toBe(frames);
      }
      for (const id of log.failed) expect(store.get(id)?.status).toBe('failed');

      const all = [];
      for (let offset = 0; ; offset += 500) {
        const page = store.list({ limit: 500, offset, order: 'oldest' });
        all.push(...page.items);
        if (all.length >= page.total) break;
      }
      // Nothing can be running: every writer is dead, so start-up recovery interrupted what they left.
      expect(all.filter((r) => r.status === 'queued' || r.status === 'running')).toEqual([]);
      expect(all.some((r) => r.status === 'interrupted')).toBe(true);
      for (const r of all.filter((x) => x.status === 'done')) {
        const o = r.outputs!;
        const pngs = readdirSync(o.framesDir!).filter((n) => n.endsWith('.png'));
        expect(pngs, `frames of #${r.id}`).toHaveLength(o.frameCount);
        for (const p of pngs) expect(statSync(join(o.framesDir!, p)).size).toBe(24_000);
        for (const v of o.videos) {
          const bytes = readFileSync(v);
          expect(bytes.length).toBe(50_000);
          expect(bytes.every((b) => b === (r.id & 0xff))).toBe(true);
        }
        expect(existsSync(o.thumbnail!)).toBe(true);
      }
      // The sweep at open removed every temporary of the dead writers.
      expect(readdirSync(join(dir, 'data', 'outputs')).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      db.close();
    }
  });
});
