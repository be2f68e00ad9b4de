/**
 * Splits a prompt into spans for highlighting the A1111 weighting syntax: `(word)` ×1.1, `[word]` ÷1.1,
 * `(word:1.3)` explicit weight, `\(` escapes, `BREAK`, and `<lora:name:w>` tags (applied from the prompt: Generate
 * moves each into the LoRA stack, src/shared/domain/prompt-loras.ts; in a negative prompt they mean nothing and are
 * flagged). Unbalanced brackets are flagged too. A display concern only: the tokenizer parses the prompt for real.
 */
export type PromptSpanKind = 'text' | 'paren' | 'bracket' | 'weight' | 'escape' | 'break' | 'lora' | 'error';

export interface PromptSpan {
  kind: PromptSpanKind;
  text: string;
  /** Emphasis depth at this span (positive: (…), negative: […]), for shading. */
  depth: number;
}

export function tokenizePrompt(prompt: string): PromptSpan[] {
  const spans: PromptSpan[] = [];
  const stack: { ch: '(' | '['; index: number }[] = [];
  let depth = 0;
  const push = (kind: PromptSpanKind, text: string) => {
    const last = spans[spans.length - 1];
    if (last && last.kind === kind && kind === 'text' && last.depth === depth) last.text += text;
    else spans.push({ kind, text, depth });
  };
  let i = 0;
  while (i < prompt.length) {
    const c = prompt[i];
    if (c === '\\' && i + 1 < prompt.length) {
      push('escape', prompt.slice(i, i + 2));
      i += 2;
      continue;
    }
    const lora = /^<(lora|lyco):[^>]*>/i.exec(prompt.slice(i));
    if (lora) {
      push('lora', lora[0]);
      i += lora[0].length;
      continue;
    }
    const brk = /^BREAK\b/.exec(prompt.slice(i));
    if (brk && (i === 0 || /\s|,/.test(prompt[i - 1]))) {
      push('break', brk[0]);
      i += brk[0].length;
      continue;
    }
    if (c === '(' || c === '[') {
      stack.push({ ch: c, index: spans.length });
      depth += c === '(' ? 1 : -1;
      push(c === '(' ? 'paren' : 'bracket', c);
      i++;
      continue;
    }
    if (c === ':' && stack.length > 0 && stack[stack.length - 1].ch === '(') {
      const w = /^:\s*-?\d+(\.\d+)?\s*(?=\))/.exec(prompt.slice(i));
      if (w) {
        push('weight', w[0]);
        i += w[0].length;
        continue;
      }
    }
    if (c === ')' || c === ']') {
      const open = stack[stack.length - 1];
      if (open && ((c === ')' && open.ch === '(') || (c === ']' && open.ch === '['))) {
        stack.pop();
        push(c === ')' ? 'paren' : 'bracket', c);
        depth += c === ')' ? -1 : 1;
      } else {
        push('error', c);
      }
      i++;
      continue;
    }
    push('text', c);
    i++;
  }
  // Openers never closed are errors: mark them where they stand.
  for (const open of stack) {
    const s = spans[open.index];
    if (s) s.kind = 'error';
  }
  return spans;
}

/** Human notes about the syntax (shown under the editor), empty when all is well. */
export function promptNotes(spans: PromptSpan[], loraTags: 'apply' | 'ignore' = 'apply'): string[] {
  const notes: string[] = [];
  if (spans.some((s) => s.kind === 'error')) notes.push('Unbalanced brackets: an opening or closing bracket has no partner.');
  if (loraTags === 'ignore' && spans.some((s) => s.kind === 'lora')) notes.push('<lora:…> tags do nothing in a negative prompt; put them in the prompt or use the LoRA stack.');
  return notes;
}
