/**
 * A determinate bar (0…1) with its accessible value; indeterminate when `fraction` is null. A finished bar is full
 * at once (no width animation), so "Done" never sits beside a bar still sliding from where it was.
 */
export function ProgressBar({ fraction, label }: { fraction: number | null; label: string }) {
  const pct = fraction === null ? undefined : Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  const cls = pct === undefined ? 'progress-fill progress-indeterminate' : pct === 100 ? 'progress-fill progress-complete' : 'progress-fill';
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <div className={cls} style={{ width: pct === undefined ? undefined : `${pct}%` }} />
    </div>
  );
}
