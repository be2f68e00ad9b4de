/**
 * The settings table: JSON values by key. The store keeps whatever plain JSON it is given; which keys exist, their
 * defaults and their validation belong to the settings service that owns StudioSettings.
 */
import type { StudioDatabase } from './database';
import { nowIso, parseJson } from './json-columns';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export class SettingsStore {
  constructor(private readonly db: StudioDatabase) {}

  /** Every stored key with its value (keys never set are absent). */
  getAll(): Record<string, JsonValue> {
    const rows = this.db.run(() => this.db.stmt('SELECT key, value_json FROM settings').all()) as { key: string; value_json: string }[];
    const out: Record<string, JsonValue> = {};
    for (const r of rows) {
      const v = parseJson<JsonValue | undefined>(r.value_json, undefined);
      if (v !== undefined) out[r.key] = v;
    }
    return out;
  }

  get(key: string): JsonValue | undefined {
    const row = this.db.run(() => this.db.stmt('SELECT value_json FROM settings WHERE key = ?').get(key)) as { value_json: string } | undefined;
    return row ? parseJson<JsonValue | undefined>(row.value_json, undefined) : undefined;
  }

  /** Set the given keys in one transaction; `undefined` removes a key (back to its default). */
  set(patch: Record<string, JsonValue | undefined>, now: string = nowIso()): Record<string, JsonValue> {
    this.db.write(() => {
      const put = this.db.stmt('INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at');
      const del = this.db.stmt('DELETE FROM settings WHERE key = ?');
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) del.run(key);
        else put.run(key, JSON.stringify(value), now);
      }
    });
    return this.getAll();
  }
}
