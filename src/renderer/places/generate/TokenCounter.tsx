import { useEffect, useState } from 'react';
import type { WeightingMode } from '../../../shared/domain/generation';
import { TOKENS_PER_CHUNK, type TokenCount } from '../../../shared/domain/prompt-tokens';
import { useStudioApi } from '../../state/studio-api';

/**
 * "12/75" per chunk under a prompt, counted by the engine's own tokenizer (countTokens) shortly after typing stops.
 * Past 75 tokens CLIP reads the prompt in several chunks, each encoded on its own: worth knowing while writing.
 */
export function TokenCounter({ text, mode, testId }: { text: string; mode: WeightingMode; testId?: string }) {
  const api = useStudioApi();
  const [count, setCount] = useState<TokenCount | null>(null);

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      api.countTokens(text, mode).then(
        (c) => live && setCount(c),
        () => live && setCount(null),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, text, mode]);

  if (!count) return <p className="token-counter muted" data-testid={testId} aria-live="polite" />;
  const chunks = count.chunks.map((n) => `${n}/${TOKENS_PER_CHUNK}`).join(' · ');
  return (
    <p className="token-counter" data-testid={testId} data-total={count.total} aria-live="polite">
      <span className="visually-hidden">Tokens: </span>
      {chunks}
      {count.chunks.length > 1 ? ` (${count.chunks.length} chunks)` : ''}
    </p>
  );
}
