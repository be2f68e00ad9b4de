import { StudioError } from '../../src/shared/errors';

/** The StudioError `f` throws (any other outcome fails the test). */
export function refusal(f: () => unknown): StudioError {
  try {
    f();
  } catch (e) {
    if (e instanceof StudioError) return e;
    throw e;
  }
  throw new Error('expected a StudioError');
}

/** The StudioError `p` rejects with (resolving, or any other error, fails the test). */
export async function rejection(p: Promise<unknown>): Promise<StudioError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StudioError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
