/**
 * Every keyboard shortcut the studio has, in one list: the help overlay (?) shows it, and the handlers cite it.
 * Keys are written as the creator presses them; `keys` uses aria-keyshortcuts' notation.
 */
export interface Shortcut {
  keys: string;
  label: string;
  where: 'Anywhere' | 'Generate' | 'Prompt box' | 'Timeline' | 'History';
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'Alt+1 … Alt+5', label: 'Go to Generate, Library, Timeline, History, Settings', where: 'Anywhere' },
  { keys: '?', label: 'Show or hide this list', where: 'Anywhere' },
  { keys: 'Esc', label: 'Close this list or a dialog', where: 'Anywhere' },
  { keys: '/', label: 'Search (Library, History)', where: 'Anywhere' },
  { keys: 'Ctrl+Enter', label: 'Generate with the current settings', where: 'Generate' },
  { keys: 'B', label: 'Swap the previous take into the viewer and back', where: 'Generate' },
  { keys: 'Space', label: 'Play or pause the clip in the viewer', where: 'Generate' },
  { keys: 'Ctrl+↑ / Ctrl+↓', label: 'Raise or lower the weight of the selected words (or the word at the caret)', where: 'Prompt box' },
  { keys: 'Space', label: 'Play or pause (viewer focused)', where: 'Timeline' },
  { keys: 'S', label: 'Split the clip under the playhead', where: 'Timeline' },
  { keys: 'Ctrl+Z / Ctrl+Shift+Z', label: 'Undo / redo the last edit (Ctrl+Y redoes too)', where: 'Timeline' },
  { keys: 'Ctrl+E', label: 'Export the timeline', where: 'Timeline' },
  { keys: '← / →', label: 'Move a focused trim handle by one frame', where: 'Timeline' },
  { keys: 'Alt+← / Alt+→', label: 'Move the focused clip earlier or later', where: 'Timeline' },
  { keys: 'Delete', label: 'Remove the focused clip', where: 'Timeline' },
  { keys: 'Tab, then Enter', label: 'Open a clip’s details', where: 'History' },
  { keys: 'R / E', label: 'Re-roll / re-run exactly the open clip', where: 'History' },
  { keys: 'U / T / F', label: 'Reuse its settings / send it to the timeline / favourite it', where: 'History' },
];

/** True when a key press belongs to a text field (shortcuts made of plain letters must not fire there). */
export function typingIn(target: EventTarget | null): boolean {
  const t = target as HTMLElement | null;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
}
