/** Prints why a test was skipped (the list reporter shows only that it was), so a skipped Electron run says why. */
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SkipReasonReporter implements Reporter {
  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    for (const a of test.annotations) if (a.type === 'skip') console.log(`  ${test.title}: ${a.description ?? 'skipped'}`);
  }
}
