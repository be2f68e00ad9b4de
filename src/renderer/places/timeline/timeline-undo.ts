/**
 * Undo and redo for timeline edits. The backend stores the timeline; the page keeps snapshots of it from before
 * each edit and, to undo, edits the stored timeline back into the snapshot (remove what is extra, re-add what is
 * missing, re-trim, re-speed, re-order). A re-added clip gets a new id; `alias` maps old ids to new ones so older
 * snapshots still find their clips.
 */
import { useCallback, useRef, useState, type RefObject } from 'react';
import type { StudioApi } from '../../../shared/api';
import type { Timeline } from '../../../shared/domain/timeline';

export async function restoreTimeline(api: StudioApi, current: Timeline, target: Timeline, alias: Map<number, number>): Promise<Timeline> {
  const resolve = (id: number) => {
    let x = id;
    for (let i = 0; i < 1000 && alias.has(x); i++) x = alias.get(x) as number;
    return x;
  };
  const wanted = target.clips.map((c) => ({ ...c, id: resolve(c.id) }));
  let t = current;
  for (const c of current.clips) if (!wanted.some((w) => w.id === c.id)) t = await api.removeClip(c.id);
  for (const w of wanted) {
    if (t.clips.some((c) => c.id === w.id)) continue;
    const before = new Set(t.clips.map((c) => c.id));
    t = await api.addClip(t.id, w.generationId);
    const added = t.clips.find((c) => !before.has(c.id));
    if (!added) throw new Error('the re-added clip is not on the timeline');
    alias.set(w.id, added.id);
    w.id = added.id;
  }
  for (const w of wanted) {
    const c = t.clips.find((x) => x.id === w.id);
    if (!c) continue;
    if (c.inFrame !== w.inFrame || c.outFrame !== w.outFrame) t = await api.trimClip(w.id, w.inFrame, w.outFrame);
    if (c.speed !== w.speed) t = await api.setClipSpeed(w.id, w.speed);
    if (c.crossfade !== w.crossfade) t = await api.setClipCrossfade(w.id, w.crossfade);
  }
  for (let i = 0; i < wanted.length; i++) if (t.clips[i]?.id !== wanted[i].id) t = await api.moveClip(wanted[i].id, i);
  if (t.name !== target.name) t = await api.renameTimeline(t.id, target.name);
  return t;
}

export interface UndoableTimeline {
  canUndo: boolean;
  canRedo: boolean;
  /** Runs an edit (one or more API calls) as one undoable step; `before` is the timeline it starts from. */
  edit(before: Timeline, run: () => Promise<Timeline>): Promise<Timeline>;
  undo(current: Timeline): Promise<Timeline | null>;
  redo(current: Timeline): Promise<Timeline | null>;
  /** Another timeline was opened: its history starts empty. */
  reset(): void;
}

export function useUndoableTimeline(api: StudioApi): UndoableTimeline {
  const past = useRef<Timeline[]>([]);
  const future = useRef<Timeline[]>([]);
  const alias = useRef(new Map<number, number>());
  const [, bump] = useState(0);
  const changed = () => bump((n) => n + 1);

  const edit = useCallback(async (before: Timeline, run: () => Promise<Timeline>) => {
    const after = await run();
    past.current.push(before);
    future.current = [];
    changed();
    return after;
  }, []);
  const step = useCallback(
    async (current: Timeline, from: RefObject<Timeline[]>, to: RefObject<Timeline[]>) => {
      const target = from.current.pop();
      if (!target) return null;
      const t = await restoreTimeline(api, current, target, alias.current);
      to.current.push(current);
      changed();
      return t;
    },
    [api],
  );
  const undo = useCallback((current: Timeline) => step(current, past, future), [step]);
  const redo = useCallback((current: Timeline) => step(current, future, past), [step]);
  const reset = useCallback(() => {
    past.current = [];
    future.current = [];
    alias.current = new Map();
    changed();
  }, []);
  return { canUndo: past.current.length > 0, canRedo: future.current.length > 0, edit, undo, redo, reset };
}
