import { useId, useLayoutEffect, useMemo, useRef, type ReactNode } from 'react';
import { adjustPromptWeight } from '../../shared/domain/prompt-weight-edit';
import { promptNotes, tokenizePrompt } from './prompt-syntax';

/**
 * A prompt box that shows the weighting syntax as you type. The highlight is a mirror layer behind a transparent
 * textarea (same font, padding and wrapping), so typing, selection, undo and screen readers stay native.
 * Ctrl+↑ / Ctrl+↓ change the weight of the selected words (or the word at the caret), as in A1111.
 */
export function PromptEditor({
  label,
  value,
  onChange,
  placeholder,
  rows = 3,
  testId,
  loraTags = 'apply',
  notes: extraNotes = [],
  footer,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  rows?: number;
  testId?: string;
  loraTags?: 'apply' | 'ignore';
  notes?: string[];
  footer?: ReactNode;
}) {
  const id = useId();
  const mirror = useRef<HTMLDivElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const pendingSelection = useRef<[number, number] | null>(null);
  const spans = useMemo(() => tokenizePrompt(value), [value]);
  const notes = [...promptNotes(spans, loraTags), ...extraNotes];

  // After a weight change the new text arrives through props; put the selection back on the same words.
  useLayoutEffect(() => {
    const sel = pendingSelection.current;
    if (sel && area.current) {
      area.current.setSelectionRange(sel[0], sel[1]);
      pendingSelection.current = null;
    }
  }, [value]);

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
          ref={area}
          id={id}
          rows={rows}
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          data-testid={testId}
          aria-describedby={notes.length > 0 ? `${id}-notes` : undefined}
          aria-keyshortcuts="Control+ArrowUp Control+ArrowDown"
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (!(e.ctrlKey || e.metaKey) || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
            const t = e.currentTarget;
            const edit = adjustPromptWeight(t.value, t.selectionStart, t.selectionEnd, e.key === 'ArrowUp' ? 0.1 : -0.1);
            if (!edit) return;
            e.preventDefault();
            pendingSelection.current = [edit.start, edit.end];
            onChange(edit.text);
          }}
          onScroll={(e) => {
            if (mirror.current) mirror.current.scrollTop = e.currentTarget.scrollTop;
          }}
        />
      </div>
      {footer}
      {notes.length > 0 && (
        <ul id={`${id}-notes`} className="field-notes" data-testid={testId ? `${testId}-notes` : undefined}>
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
