import { useId } from 'react';
import { MAX_SEED } from '../state/draft';
import { Icon } from './Icon';

/**
 * The seed with a die to roll a new one and a lock that keeps it across generations (unlocked, Generate rolls
 * after each queued job so the next one differs; locked, the same seed is reused while other settings change).
 */
export function SeedControl({
  seed,
  locked,
  onSeed,
  onLocked,
  onRoll,
}: {
  seed: number;
  locked: boolean;
  onSeed: (s: number) => void;
  onLocked: (l: boolean) => void;
  onRoll: () => void;
}) {
  const id = useId();
  return (
    <div className="field seed-control">
      <label htmlFor={id}>Seed</label>
      <div className="seed-row">
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_SEED}
          step={1}
          value={seed}
          data-testid="seed-input"
          onChange={(e) => {
            const v = e.target.valueAsNumber;
            if (Number.isSafeInteger(v) && v >= 0) onSeed(v);
          }}
        />
        <button type="button" className="icon-button" onClick={onRoll} disabled={locked} title="Roll a new seed" aria-label="Roll a new seed" data-testid="seed-roll">
          <Icon name="die" />
        </button>
        <button
          type="button"
          className="icon-button"
          aria-pressed={locked}
          onClick={() => onLocked(!locked)}
          title={locked ? 'Seed locked: kept for the next generation' : 'Seed unlocked: a new one is rolled after each generation'}
          aria-label="Lock seed"
          data-testid="seed-lock"
        >
          <Icon name={locked ? 'lock' : 'unlock'} />
        </button>
      </div>
    </div>
  );
}
