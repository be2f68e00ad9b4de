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
