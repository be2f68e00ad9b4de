import type { EngineSession } from '../runtime/session';
import { graphName, type GraphId } from './graph-identity';

/**
 * The open onnxruntime sessions of a model set, under a memory budget. Each session is opened on first use and
 * counted at the bytes its caller estimates for it (memory/estimate.ts); when opening one more would pass the
 * budget, the least recently used idle sessions are closed first (a session that is opening or running is never
 * closed under its user). `exclusive` names pairs that must never be resident together — a GPU cannot hold two
 * full UNets — and the older of such a pair is closed even within budget. A closed session is simply reopened
 * from the compile cache on its next use (same graph file, same results).
 *
 * The budget is soft for a single session: one that alone exceeds it still opens (with everything else closed);
 * refusing work that cannot fit at all is the job guard's decision, before a job starts.
 */
export interface SessionPoolOptions {
  /** Bytes the open sessions may hold together (default: no limit). */
  budgetBytes?: number;
  /** True when sessions for `a` and `b` must not be open at the same time. */
  exclusive?: (a: GraphId, b: GraphId) => boolean;
  /** Hears each close for memory (tests, benches, progress notes). */
  onEvict?: (id: GraphId, why: 'budget' | 'exclusive') => void;
}

interface Entry {
  id: GraphId;
  bytes: number;
  session: Promise<EngineSession>;
  /** Use counter value at the last acquire (higher = more recent). */
  lastUsed: number;
  /** Calls holding the session now (opening counts as one). */
  busy: number;
}

export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  /** Sessions opened and closed for memory since the pool was made. */
  readonly stats = { opened: 0, evicted: 0 };

  constructor(private readonly opts: SessionPoolOptions = {}) {}

  get budgetBytes(): number {
    return this.opts.budgetBytes ?? Infinity;
  }

  /** Estimated bytes of the open (and opening) sessions. */
  get residentBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  /** The graphs with a session open (or opening), least recently used first. */
  resident(): GraphId[] {
    return [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed).map((e) => e.id);
  }

  /**
   * Runs `use` on the session of `id`, opening it with `open` when none is resident (after making room for
   * `bytes`). The session stays open afterwards until the budget, an exclusive pair or `close` needs it gone.
   */
  async with<T>(id: GraphId, bytes: number, open: () => Promise<EngineSession>, use: (s: EngineSession) => Promise<T>): Promise<T> {
    const key = graphName(id);
    let e = this.entries.get(key);
    if (!e) {
      await this.makeRoom(id, bytes);
      e = this.entries.get(key); // a concurrent call may have opened it meanwhile
      if (!e) {
        const session = open();
        e = { id, bytes, session, lastUsed: 0, busy: 0 };
        this.entries.set(key, e);
        const entry = e;
        session.then(
          () => this.stats.opened++,
          // A failed open must not poison later attempts.
          () => {
            if (this.entries.get(key) === entry) this.entries.delete(key);
          },
        );
      }
    }
    e.lastUsed = ++this.clock;
    e.busy++;
    try {
      return await use(await e.session);
    } finally {
      e.busy--;
    }
  }

  /** Closes the resident sessions `which` selects (e.g. a merged LoRA graph no longer in use). */
  async close(which: (id: GraphId) => boolean): Promise<void> {
    const closing: Array<Promise<void>> = [];
    for (const [key, e] of [...this.entries]) {
      if (!which(e.id)) continue;
      this.entries.delete(key);
      closing.push(disposeQuietly(e.session));
    }
    await Promise.all(closing);
  }

  /** Closes everything. */
  async dispose(): Promise<void> {
    await this.close(() => true);
  }

  /** Frees memory for a session of `bytes` for `id`: exclusive partners first, then least recently used. */
  private async makeRoom(id: GraphId, bytes: number): Promise<void> {
    const closing: Array<Promise<void>> = [];
    const evict = (key: string, e: Entry, why: 'budget' | 'exclusive'): void => {
      this.entries.delete(key);
      this.stats.evicted++;
      this.opts.onEvict?.(e.id, why);
      closing.push(disposeQuietly(e.session));
    };
    const exclusive = this.opts.exclusive;
    if (exclusive) {
      for (const [key, e] of [...this.entries]) if (e.busy === 0 && exclusive(e.id, id)) evict(key, e, 'exclusive');
    }
    const budget = this.budgetBytes;
    if (this.residentBytes + bytes > budget) {
      const idle = [...this.entries].filter(([, e]) => e.busy === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      for (const [key, e] of idle) {
        if (this.residentBytes + bytes <= budget) break;
        evict(key, e, 'budget');
      }
    }
    // Wait for the memory to be released before the new session claims its own.
    await Promise.all(closing);
  }
}

async function disposeQuietly(p: Promise<EngineSession>): Promise<void> {
  try {
    await (await p).dispose();
  } catch {
    // a session that failed to open has nothing to close
  }
}
