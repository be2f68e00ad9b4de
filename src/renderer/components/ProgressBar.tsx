/** A determinate bar (0…1) with its accessible value; indeterminate when `fraction` is null. */
export function ProgressBar({ fraction, label }: { fraction: number | null; label: string }) {
  const pct = fraction === null ? undefined : Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <div className={pct === undefined ? 'progress-fill progress-indeterminate' : 'progress-fill'} style={{ width: pct === undefined ? undefined : `${pct}%` }} />
    </div>
  );
}
