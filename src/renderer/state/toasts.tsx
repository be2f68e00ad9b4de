/**
 * Toasts: short confirmations ("Added to the timeline") and failures that have nowhere better to appear. They sit
 * in a polite live region, stay 5 s (errors until dismissed) and never cover the controls (in the header's empty
 * middle, two at most: the newest and the one before).
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { serializeError, type SerializedError } from '../../shared/errors';
import { ErrorPanel } from '../components/ErrorPanel';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  error?: SerializedError;
}

interface ToastApi {
  info(text: string): void;
  /** Shows an engine/service failure as its human message, details expandable. */
  error(e: unknown, context?: string): void;
}

const ToastContext = createContext<ToastApi | null>(null);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);

  const api = useMemo<ToastApi>(
    () => ({
      info: (text) => {
        const id = nextId.current++;
        setToasts((t) => [...t.slice(-1), { id, kind: 'info', text }]);
        setTimeout(() => dismiss(id), 5000);
      },
      error: (e, context) => {
        const id = nextId.current++;
        const error = serializeError(e);
        setToasts((t) => [...t.slice(-1), { id, kind: 'error', text: context ?? error.message, error }]);
      },
    }),
    [dismiss],
  );

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`}>
            {t.error ? <ErrorPanel error={t.error} title={t.text === t.error.message ? undefined : t.text} compact /> : <span>{t.text}</span>}
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToasts(): ToastApi {
  const t = useContext(ToastContext);
  if (!t) throw new Error('useToasts outside ToastProvider');
  return t;
}
