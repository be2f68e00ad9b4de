import type { SerializedError } from '../../shared/errors';
import { presentError } from '../../shared/error-words';

/**
 * An engine or service failure as a creator reads it: the human message first (text from underneath, such as
 * onnxruntime's, is replaced by a sentence for its code), and the engineer's details (code, original text,
 * paths, keys) folded away until asked for.
 */
export function ErrorPanel({ error, title, compact = false }: { error: SerializedError; title?: string; compact?: boolean }) {
  const hasDetails = error.details !== undefined && Object.keys(error.details).length > 0;
  const shown = presentError(error);
  return (
    <div className={compact ? 'error-panel error-panel-compact' : 'error-panel'} role="alert" data-testid="error-panel">
      {title && <strong className="error-title">{title}</strong>}
      <p className="error-message">{shown.message}</p>
      <details className="error-details">
        <summary>Details</summary>
        <dl>
          <dt>Code</dt>
          <dd>
            <code>{error.code}</code>
          </dd>
        </dl>
        {shown.technical !== null && <pre data-testid="error-technical">{shown.technical}</pre>}
        {hasDetails && <pre>{JSON.stringify(error.details, null, 2)}</pre>}
      </details>
    </div>
  );
}
