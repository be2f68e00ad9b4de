import { useEffect, useRef, useState } from 'react';
import type { EngineInfo, EngineStatus } from '../../shared/api';
import { serializeError, type SerializedError } from '../../shared/errors';
import type { ProviderName } from '../../shared/domain/generation';
import { deviceLine } from './device-line';
import type { Connection } from '../api/connection';
import type { SocketState } from '../api/socket-client';

const PROVIDER_LABELS: Record<ProviderName, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };

const ENGINE_STATE_TEXT: Record<EngineStatus['state'], string> = {
  starting: 'Engine starting…',
  ready: 'Engine ready',
  busy: 'Engine busy',
  failed: 'Engine stopped',
  stopped: 'Engine idle',
};

/** What the engine sees, asked from the real backend: onnxruntime version, usable execution providers, transport. */
export function StatusBar({ connection }: { connection: Connection }) {
  const { api, mode } = connection;
  const [info, setInfo] = useState<EngineInfo | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  const [engine, setEngine] = useState<EngineStatus | null>(null);
  const [socket, setSocket] = useState<SocketState>('open');
  const [showUnusable, setShowUnusable] = useState(false);
  const lastState = useRef<EngineStatus['state'] | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      api.getEngineInfo().then(
        (i) => live && (setInfo(i), setError(null)),
        (e: unknown) => live && setError(serializeError(e)),
      );
    void load();
    const offEngine = api.onEngineStatus((s) => {
      setEngine(s);
      // A restarted engine may see different providers (e.g. after installing CUDA libraries).
      if (s.state === 'ready' && lastState.current === 'failed') void load();
      lastState.current = s.state;
    });
    const offSocket = connection.onSocketState?.((s) => {
      setSocket(s);
      if (s === 'open') void load();
    });
    return () => {
      live = false;
      offEngine();
      offSocket?.();
    };
  }, [api, connection]);

  const usable = info?.providers.filter((p) => p.usable) ?? [];
  const unusable = info?.providers.filter((p) => !p.usable) ?? [];

  return (
    <footer className="status-bar" aria-label="Engine status">
      <span className={`status-dot status-${engine?.state ?? (info ? 'ready' : error ? 'failed' : 'starting')}`} aria-hidden="true" />
      <span data-testid="engine-state">
        {engine ? ENGINE_STATE_TEXT[engine.state] + (engine.state === 'busy' ? ` (${engine.activeJobs})` : '') : info ? 'Engine ready' : error ? 'Engine unavailable' : 'Engine starting…'}
      </span>
      {error && (
        <span className="status-error" role="alert" data-testid="engine-error">
          {error.message}
        </span>
      )}
      {info && (
        <>
          <span className="status-item" data-testid="engine-ort-version">
            onnxruntime {info.onnxruntimeVersion}
          </span>
          <span className="status-item" data-testid="engine-providers">
            {usable.length > 0 ? `Runs on ${usable.map((p) => PROVIDER_LABELS[p.name] ?? p.name).join(', ')}` : 'No usable execution provider'}
          </span>
          {usable
            .filter((p) => p.device)
            .map((p) => (
              <span key={p.name} className="status-item" data-testid={`engine-device-${p.name}`}>
                {PROVIDER_LABELS[p.name]}: {p.device && deviceLine(p.device)}
              </span>
            ))}
          {unusable.length > 0 && (
            <span className="status-popover-anchor">
              <button type="button" className="status-button" aria-expanded={showUnusable} aria-controls="unusable-providers" onClick={() => setShowUnusable((v) => !v)}>
                {unusable.length} not available
              </button>
              {showUnusable && (
                <ul id="unusable-providers" className="status-popover" data-testid="engine-unusable-providers">
                  {unusable.map((p) => (
                    <li key={p.name}>
                      <strong>{PROVIDER_LABELS[p.name] ?? p.name}</strong>: {p.reason ?? 'not available on this machine.'}
                    </li>
                  ))}
                </ul>
              )}
            </span>
          )}
        </>
      )}
      <span className="status-spacer" />
      <span className="status-item" data-testid="transport-mode">
        {mode === 'electron' ? 'Desktop' : socket === 'open' ? 'Web mode (localhost)' : socket === 'connecting' ? 'Web mode: reconnecting…' : 'Web mode: disconnected'}
      </span>
      {info && <span className="status-item status-version">v{info.appVersion}</span>}
    </footer>
  );
}
