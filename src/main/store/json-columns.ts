/**
 * JSON stored in TEXT columns. Parsing is defensive: a value a newer app (or a hand edit) left in an unexpected
 * shape falls back to the given default instead of crashing a list view.
 */
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function parseStringArray(text: string | null | undefined): string[] {
  const v = parseJson<unknown>(text, []);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function parseStringRecord(text: string | null | undefined): Record<string, string> {
  const v = parseJson<unknown>(text, {});
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function nowIso(): string {
  return new Date().toISOString();
}
