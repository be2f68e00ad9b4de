/** Loads something from the API, keeps the last good value while reloading, and exposes the failure as data. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { serializeError, type SerializedError } from '../../shared/errors';

export interface Loaded<T> {
  value: T | null;
  error: SerializedError | null;
  loading: boolean;
  reload(): Promise<void>;
  /** Replace the value locally (with what a mutation returned) without another round trip. */
  set(value: T): void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  // The caller lists what the loader depends on, as with useEffect.
  const run = useCallback(load, deps);

  const reload = useCallback(async () => {
    const g = ++generation.current;
    setLoading(true);
    try {
      const v = await run();
      if (g === generation.current) {
        setValue(v);
        setError(null);
      }
    } catch (e) {
      if (g === generation.current) setError(serializeError(e));
    } finally {
      if (g === generation.current) setLoading(false);
    }
  }, [run]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return { value, error, loading, reload, set: setValue };
}
