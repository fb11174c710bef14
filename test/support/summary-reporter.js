'use strict';
// Mocha's spec reporter, plus:
// - each test skipped for want of a system package says what is missing and which Debian package
//   brings it (test/support/system-deps.ts marks them), and the run ends with a summary of them;
// - the plain closing line CI reads: "N passed, N failed[, N skipped]".
const Mocha = require('mocha');

const { EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;
/** Kept in step with MISSING_PROPERTY in system-deps.ts (this file is plain JS, loaded by mocha). */
const MISSING = 'missingSystemDependency';

function missingFor(test) {
  for (let r = test; r; r = r.parent) if (r[MISSING]) return r[MISSING];
  return undefined;
}

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    // Registered before the spec reporter's own listener, so that its pending line carries the reason.
    const reasons = new Map();
    const unexplained = [];
    runner.prependListener(EVENT_TEST_PENDING, (test) => {
      const why = missingFor(test);
      if (!why) {
        unexplained.push(test.fullTitle());
        return;
      }
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      test.title = `${test.title}  [skipped: ${why}]`;
    });
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      if (reasons.size > 0) {
        const skipped = [...reasons.values()].reduce((a, b) => a + b, 0);
        process.stdout.write(`\n${skipped} test(s) skipped for want of system packages (STRICT_SYSTEM_DEPS=1 makes them failures):\n`);
        for (const [why, n] of reasons) process.stdout.write(`  ${String(n).padStart(3)} × ${why}\n`);
      }
      if (unexplained.length > 0) {
        process.stdout.write(`\n${unexplained.length} test(s) skipped without a missing system package to explain it:\n`);
        for (const title of unexplained) process.stdout.write(`  - ${title}\n`);
      }
      const skipped = pending ? `, ${pending} skipped` : '';
      process.stdout.write(`\n${passes} passed, ${failures} failed${skipped}\n`);
    });
  }
}

module.exports = SummaryReporter;
