import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { skipOfTitle } from './skip-reason.js';

/**
 * Prints, after the run's summary, each reason a suite or test was skipped
 * for (as describeUnless and itUnless put it in the title), once, with what
 * it skipped. vitest's default reporter shows a skipped suite's title only
 * when the run has one file; elsewhere a skip would be a bare count.
 */
export default class SkipReasonsReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped = new Map<string, string[]>();
    for (const module of testModules) {
      const entries = [...module.children.allSuites(), ...module.children.allTests()];
      for (const entry of entries) {
        const state = entry.type === 'suite' ? entry.state() : entry.result().state;
        const skip = skipOfTitle(entry.name);
        if (state !== 'skipped' || skip === undefined) continue;
        skipped.set(skip.reason, [...(skipped.get(skip.reason) ?? []), `${module.relativeModuleId} > ${skip.title}`]);
      }
    }
    if (skipped.size === 0) return;
    const lines = [...skipped].flatMap(([reason, titles]) => [
      `Skipped, ${reason}:`,
      ...titles.map((title) => `  ${title}`),
    ]);
    this.vitest?.logger.log(`\n${lines.join('\n')}\n`);
  }
}
