import { useId, useMemo, useRef } from 'react';
import { promptNotes, tokenizePrompt } from './prompt-syntax';

/**
 * A prompt box that shows the weighting syntax as you type. The highlight is a mirror layer behind a transparent
 * textarea (same font, padding and wrapping), so typing, selection, undo and screen readers stay native.
 */
export function PromptEditor({
  label,
  value,
  onChange,
  placeholder,
  rows = 3,
  testId,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  rows?: number;
  testId?: string;
}) {
  const id = useId();
  const mirror = useRef<HTMLDivElement>(null);
  const spans = useMemo(() => tokenizePrompt(value), [value]);
  const notes = promptNotes(spans);

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="prompt-editor">
        <div className="prompt-mirror" ref={mirror} aria-hidden="true" data-testid={testId ? `${testId}-highlight` : undefined}>
          {spans.map((s, i) => (
            <span key={i} className={`tok tok-${s.kind}${s.kind === 'text' && s.depth !== 0 ? (s.depth > 0 ? ' tok-up' : ' tok-down') : ''}`}>
              {s.text}
            </span>
          ))}
          {/* A trailing newline in a textarea needs a character to take up its line in the mirror. */}
          {'\u200b'}
        </div>
        <textarea
          id={id}
          rows={rows}
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          data-testid={testId}
          aria-describedby={notes.length > 0 ? `${id}-notes` : undefined}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => {
            if (mirror.current) mirror.current.scrollTop = e.currentTarget.scrollTop;
          }}
        />
      </div>
      {notes.length > 0 && (
        <ul id={`${id}-notes`} className="field-notes">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
