import type { KindHandler } from './types';

/**
 * Every reference-case kind the engine can verify. Add a kind: write `kinds/<kind>.ts` exporting a
 * KindHandler and list it here. A case whose kind is not listed fails `verify` (never skipped silently).
 */
export const KIND_HANDLERS: readonly KindHandler[] = [];

export function handlerFor(kind: string): KindHandler | undefined {
  return KIND_HANDLERS.find((h) => h.kind === kind);
}
