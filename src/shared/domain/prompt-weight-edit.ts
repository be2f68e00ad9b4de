/**
 * Ctrl+↑ / Ctrl+↓ in a prompt box, as A1111 does it: the selected words (or the word at the caret) get an
 * explicit weight `(words:1.1)`, and pressing again steps that weight by 0.1; at weight 1 the brackets go.
 * Pure text in, text and selection out; the editor applies it.
 */
export interface PromptEdit {
  text: string;
  start: number;
  end: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Widens an empty selection to the word around the caret (letters, digits, _ and -). */
function wordAt(text: string, at: number): [number, number] {
  let s = at;
  let e = at;
  while (s > 0 && /[\p{L}\p{N}_-]/u.test(text[s - 1])) s--;
  while (e < text.length && /[\p{L}\p{N}_-]/u.test(text[e])) e++;
  return [s, e];
}

export function adjustPromptWeight(text: string, selStart: number, selEnd: number, delta: number): PromptEdit | null {
  let [start, end] = selStart === selEnd ? wordAt(text, selStart) : [selStart, selEnd];
  // Trim spaces the selection caught at its edges.
  while (start < end && text[start] === ' ') start++;
  while (end > start && text[end - 1] === ' ') end--;
  if (start === end) return null;

  // Already inside "(words:w)": change w.
  const before = text.slice(0, start);
  const after = text.slice(end);
  const open = before.endsWith('(');
  const weight = /^:(-?\d+(?:\.\d+)?)\)/.exec(after);
  if (open && weight) {
    const w = round(Number(weight[1]) + delta);
    const inner = text.slice(start, end);
    if (w === 1) {
      const out = before.slice(0, -1) + inner + after.slice(weight[0].length);
      return { text: out, start: start - 1, end: end - 1 };
    }
    const out = `${before}${inner}:${w})${after.slice(weight[0].length)}`;
    return { text: out, start, end };
  }
  const w = round(1 + delta);
  const inner = text.slice(start, end);
  return { text: `${before}(${inner}:${w})${after}`, start: start + 1, end: end + 1 };
}
