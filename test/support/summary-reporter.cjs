'use strict';
// Mocha reporter: mocha's Spec output, then one line `N passed, N failed, N skipped`
// (the line CI parses). With SHOAL_TEST_SUMMARY=<file>, the counts are also appended to
// that file as JSON so scripts/test.sh can total several suites into one final line.
const fs = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_HOOK_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => passed++);
    runner.on(EVENT_TEST_FAIL, () => failed++);
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    void EVENT_HOOK_END;
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.SHOAL_TEST_SUMMARY;
      if (file) fs.appendFileSync(file, JSON.stringify({ passed, failed, skipped }) + '\n');
      // Spec prints its epilogue on the same event; ours must come after it.
      setImmediate(() => process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`));
    });
  }
}
module.exports = SummaryReporter;
