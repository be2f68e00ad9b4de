import type { SerializedError } from '../../shared/errors';

/**
 * An engine or service failure as a creator reads it: the human message first, what to do in it, and the
 * engineer's details (code, paths, keys) folded away until asked for.
 */
export function ErrorPanel({ error, title, compact = false }: { error: SerializedError; title?: string; compact?: boolean }) {
  const hasDetails = error.details !== undefined && Object.keys(error.details).length > 0;
  return (
    <div className={compact ? 'error-panel error-panel-compact' : 'error-panel'} role="alert" data-testid="error-panel">
      {title && <strong className="error-title">{title}</strong>}
      <p className="error-message">{error.message}</p>
      <details className="error-details">
        <summary>Details</summary>
        <dl>
          <dt>Code</dt>
          <dd>
            <code>{error.code}</code>
          </dd>
        </dl>
        {hasDetails && <pre>{JSON.stringify(error.details, null, 2)}</pre>}
      </details>
    </div>
  );
}
