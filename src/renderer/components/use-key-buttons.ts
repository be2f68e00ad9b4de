/**
 * Single-key shortcuts for the buttons of one panel: pressing the key (no modifier, not while typing) clicks the
 * panel's button with that data-testid, so the shortcut does exactly what the button does, disabled state included.
 */
import { useEffect, type RefObject } from 'react';
import { typingIn } from '../shortcuts';

export function useKeyButtons(panel: RefObject<HTMLElement | null>, keys: Record<string, string>): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target) || document.querySelector('dialog[open]')) return;
      const testId = keys[e.key.toLowerCase()];
      const button = testId ? panel.current?.querySelector<HTMLButtonElement>(`[data-testid="${testId}"]`) : null;
      if (!button || button.disabled) return;
      e.preventDefault();
      button.click();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [panel, keys]);
}
