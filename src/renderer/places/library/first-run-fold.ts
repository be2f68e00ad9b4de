/**
 * The creator's folding of Getting started, kept across visits and reloads: folded at "N of the required files",
 * it stays folded while the library still holds N (a file arriving or going away opens it again).
 */
const KEY = 'animatelcm-studio.first-run-folded-at';

/** How many required files the library held when the creator folded the card; null when it is not folded. */
export function foldedAt(): number | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === null ? null : Number(v);
  } catch {
    return null;
  }
}

/** Remembers a fold at `requiredDone` files, or forgets it (null) when the creator opens the card again. */
export function rememberFold(requiredDone: number | null): void {
  try {
    if (requiredDone === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, String(requiredDone));
  } catch {
    // Storage refused (private window): the card simply opens again next time.
  }
}
