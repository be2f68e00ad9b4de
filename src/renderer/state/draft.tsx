/**
 * The Generate panel's working parameters, shared so other places can feed it: the library's "apply to stack",
 * History's "reuse parameters". Starts from the defaults in Settings over the studio's defaults; the seed is
 * rolled fresh at start unless the creator locked it. Settings saved later apply at once (`settingsSaved`): the
 * provider order, and every default that changed.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SettingsView } from '../../shared/api';
import { DEFAULT_PARAMS, type GenerationParams, type LoraRef } from '../../shared/domain/generation';
import { sidecarFacts, type LibraryItem } from '../../shared/domain/library';
import { useStudioApi } from './studio-api';

/** Largest seed the noise generator takes through JSON (2^53 − 1); the die draws below 2^32 to keep it readable. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export function randomSeed(): number {
  const a = new Uint32Array(1);
  crypto.getRandomValues(a);
  return a[0];
}

interface DraftApi {
  params: GenerationParams;
  seedLocked: boolean;
  setSeedLocked(locked: boolean): void;
  update(patch: Partial<GenerationParams>): void;
  /** Replaces everything (reuse parameters); keeps the seed lock as the creator set it. */
  replace(params: GenerationParams): void;
  /** Adds a library LoRA to the stack (no duplicates: applying again re-enables it). */
  addLora(item: LibraryItem, weight?: number): void;
  updateLora(index: number, patch: Partial<LoraRef>): void;
  removeLora(index: number): void;
  /** Settings were saved: new defaults that changed, and the provider order, apply to the draft now. */
  settingsSaved(next: SettingsView): void;
}

/** What saved settings change in the draft: the provider order, and each default whose saved value changed. */
export function settingsPatch(previous: SettingsView | null, next: SettingsView): Partial<GenerationParams> {
  const patch: Partial<GenerationParams> = {};
  const before = previous?.defaultParams ?? {};
  for (const [key, value] of Object.entries(next.defaultParams) as [keyof GenerationParams, unknown][]) {
    if (key === 'seed' || key === 'prompt') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) (patch as Record<string, unknown>)[key] = value;
  }
  if (next.providers.length > 0) patch.providers = next.providers;
  return patch;
}

const DraftContext = createContext<DraftApi | null>(null);

export function DraftProvider({ children }: { children: ReactNode }) {
  const api = useStudioApi();
  const [params, setParams] = useState<GenerationParams>(() => ({ ...DEFAULT_PARAMS, seed: randomSeed() }));
  const [seedLocked, setSeedLocked] = useState(false);
  const lastSettings = useRef<SettingsView | null>(null);

  // The creator's defaults from Settings, once, before they have touched anything that matters.
  useEffect(() => {
    let live = true;
    api.getSettings().then(
      (s) => {
        if (!live) return;
        lastSettings.current = s;
        setParams((p) => ({ ...p, ...s.defaultParams, providers: s.providers.length > 0 ? s.providers : p.providers, seed: p.seed, prompt: p.prompt || (s.defaultParams.prompt ?? '') }));
      },
      () => undefined, // the panel still works on DEFAULT_PARAMS; Settings shows its own error
    );
    return () => {
      live = false;
    };
  }, [api]);

  const update = useCallback((patch: Partial<GenerationParams>) => setParams((p) => ({ ...p, ...patch })), []);
  const replace = useCallback((next: GenerationParams) => setParams(next), []);
  const addLora = useCallback(
    // The weight a sidecar suggests (A1111's "preferred weight"), else 0.8.
    (item: LibraryItem, weight = sidecarFacts(item).defaultWeight ?? 0.8) =>
      setParams((p) => {
        const at = p.loras.findIndex((l) => l.path === item.path);
        if (at >= 0) return { ...p, loras: p.loras.map((l, i) => (i === at ? { ...l, enabled: true } : l)) };
        return { ...p, loras: [...p.loras, { path: item.path, weight, enabled: true, name: item.name, sha256: item.sha256 }] };
      }),
    [],
  );
  const updateLora = useCallback((index: number, patch: Partial<LoraRef>) => setParams((p) => ({ ...p, loras: p.loras.map((l, i) => (i === index ? { ...l, ...patch } : l)) })), []);
  const removeLora = useCallback((index: number) => setParams((p) => ({ ...p, loras: p.loras.filter((_, i) => i !== index) })), []);
  const settingsSaved = useCallback((next: SettingsView) => {
    const patch = settingsPatch(lastSettings.current, next);
    lastSettings.current = next;
    setParams((p) => ({ ...p, ...patch }));
  }, []);

  const value = useMemo<DraftApi>(
    () => ({ params, seedLocked, setSeedLocked, update, replace, addLora, updateLora, removeLora, settingsSaved }),
    [params, seedLocked, update, replace, addLora, updateLora, removeLora, settingsSaved],
  );
  return <DraftContext.Provider value={value}>{children}</DraftContext.Provider>;
}

export function useDraft(): DraftApi {
  const d = useContext(DraftContext);
  if (!d) throw new Error('useDraft outside DraftProvider');
  return d;
}
