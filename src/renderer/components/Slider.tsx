import { useId } from 'react';

/**
 * A labelled range with its number beside it: drag for feel, type for precision. Both are the same value; the
 * number box accepts anything and clamps on commit so typing "1." does not fight the creator.
 */
export function Slider({
  label,
  value,
  min,
  max,
  step = 1,
  onChange,
  format,
  hint,
  testId,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  onChange: (v: number) => void;
  format?: (v: number) => string;
  hint?: string;
  testId?: string;
}) {
  const id = useId();
  const clamp = (v: number) => Math.min(max, Math.max(min, v));
  return (
    <div className="field slider">
      <div className="slider-head">
        <label htmlFor={id}>{label}</label>
        <input
          type="number"
          className="slider-number"
          aria-label={`${label} value`}
          value={Number.isFinite(value) ? value : ''}
          min={min}
          max={max}
          step={step}
          data-testid={testId ? `${testId}-number` : undefined}
          onChange={(e) => {
            const v = e.target.valueAsNumber;
            if (Number.isFinite(v)) onChange(clamp(v));
          }}
        />
      </div>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        data-testid={testId}
        aria-valuetext={format ? format(value) : undefined}
        onChange={(e) => onChange(clamp(e.target.valueAsNumber))}
      />
      {hint && <p className="field-hint">{hint}</p>}
    </div>
  );
}
