import { useEffect, useId, useState } from 'react';

/**
 * A labelled range with its number beside it: drag for feel, type for precision. The range covers the usual
 * values (`min`…`max`); the number box also takes anything up to `hardMin`/`hardMax` (what the engine accepts).
 * A typed value outside that is refused with the reason beside the box and never clamped behind the creator's
 * back: the last good value stays in force until the box holds a valid one.
 */
export function Slider({
  label,
  value,
  min,
  max,
  hardMin = min,
  hardMax = max,
  step = 1,
  integer = Number.isInteger(step),
  onChange,
  format,
  hint,
  testId,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  hardMin?: number;
  hardMax?: number;
  step?: number;
  integer?: boolean;
  onChange: (v: number) => void;
  format?: (v: number) => string;
  hint?: string;
  testId?: string;
}) {
  const id = useId();
  const [text, setText] = useState(String(value));
  const [problem, setProblem] = useState<string | null>(null);

  // The value changed elsewhere (range drag, reuse parameters, settings): show it.
  useEffect(() => {
    setText((t) => (Number(t) === value && t.trim() !== '' ? t : String(value)));
    setProblem(null);
  }, [value]);

  const commitText = (raw: string) => {
    setText(raw);
    if (raw.trim() === '' || raw === '-' || raw.endsWith('.')) {
      setProblem(null); // still typing
      return;
    }
    const v = Number(raw);
    if (!Number.isFinite(v)) return setProblem(`${label} must be a number; it stays at ${value}.`);
    if (integer && !Number.isInteger(v)) return setProblem(`${label} must be a whole number; it stays at ${value}.`);
    if (v < hardMin || v > hardMax) return setProblem(`${label} goes from ${hardMin} to ${hardMax}; ${v} was not applied, it stays at ${value}.`);
    setProblem(null);
    onChange(v);
  };

  return (
    <div className="field slider">
      <div className="slider-head">
        <label htmlFor={id}>{label}</label>
        <input
          type="number"
          className={problem ? 'slider-number invalid' : 'slider-number'}
          aria-label={`${label} value`}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          value={text}
          min={hardMin}
          max={hardMax}
          step={step}
          data-testid={testId ? `${testId}-number` : undefined}
          onChange={(e) => commitText(e.target.value)}
          onBlur={() => {
            if (!problem) setText(String(value));
          }}
        />
      </div>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={Math.min(max, Math.max(min, value))}
        data-testid={testId}
        aria-valuetext={format ? format(value) : value < min || value > max ? String(value) : undefined}
        onChange={(e) => onChange(e.target.valueAsNumber)}
      />
      {problem && (
        <p className="field-problem" id={`${id}-problem`} role="alert" data-testid={testId ? `${testId}-problem` : undefined}>
          {problem}
        </p>
      )}
      {hint && !problem && <p className="field-hint">{hint}</p>}
    </div>
  );
}
