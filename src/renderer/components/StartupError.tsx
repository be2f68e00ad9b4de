import type { SerializedError } from '../../shared/errors';

/** Shown when the renderer cannot reach the studio at all (web mode without a valid token, server gone). */
export function StartupError({ error }: { error: SerializedError }) {
  return (
    <main className="startup-error" role="alert">
      <h1>AnimateLCM Studio could not connect</h1>
      <p>{error.message}</p>
      {error.details && (
        <details>
          <summary>Details</summary>
          <pre>{JSON.stringify(error.details, null, 2)}</pre>
        </details>
      )}
    </main>
  );
}
