import { useEffect, useRef } from 'react';
import { SHORTCUTS } from '../shortcuts';

/** The shortcut list as a modal dialog (focus trapped by the browser, Esc closes). */
export function ShortcutsHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const groups = [...new Set(SHORTCUTS.map((s) => s.where))];
  return (
    <dialog ref={dialog} className="shortcuts-help" aria-labelledby="shortcuts-title" onClose={onClose} data-testid="shortcuts-help">
      <div className="section-head">
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <button type="button" className="icon-button" aria-label="Close the shortcut list" onClick={onClose}>
          ×
        </button>
      </div>
      {/* Two columns where the window allows, so the whole list is read at 1280×720 without scrolling. */}
      <div className="shortcut-groups">
        {groups.map((g) => (
          <section key={g}>
            <h3>{g}</h3>
            <dl className="shortcut-list">
              {SHORTCUTS.filter((s) => s.where === g).map((s) => (
                <div key={s.keys} className="shortcut-row">
                  <dt>
                    <kbd>{s.keys}</kbd>
                  </dt>
                  <dd>{s.label}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </dialog>
  );
}
