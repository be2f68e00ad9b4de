import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { SettingsStore } from '../../../src/main/store/settings-store';
import { tempDataDir } from './helpers';

describe('SettingsStore', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('settings-'));
    db = openDatabase(join(dir, 'data'));
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('keeps JSON values by key across reopen; a patch touches only what it names; undefined removes', () => {
    const s = new SettingsStore(db);
    expect(s.getAll()).toEqual({});
    s.set({ providers: ['cuda', 'cpu'], threads: 4, defaultParams: { steps: 6, guidance: 1.5 } });
    expect(s.set({ threads: null })).toEqual({ providers: ['cuda', 'cpu'], threads: null, defaultParams: { steps: 6, guidance: 1.5 } });
    db.close();
    db = openDatabase(join(dir, 'data'));
    const again = new SettingsStore(db);
    expect(again.get('providers')).toEqual(['cuda', 'cpu']);
    again.set({ providers: undefined });
    expect(again.getAll()).toEqual({ threads: null, defaultParams: { steps: 6, guidance: 1.5 } });
    expect(again.get('missing')).toBeUndefined();
  });
});
