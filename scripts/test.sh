#!/usr/bin/env bash
# The whole test suite: set-up, generated-code check, typecheck, lint, then the unit,
# simulation and integration suites, then the demo. The last line is `N passed, N failed, N skipped`,
# totalled over the suites (a failed check step counts as one failure).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
export SHOAL_TEST_SUMMARY="$summary"
check_failures=0

step() {
  local name=$1; shift
  printf '\n== %s ==\n' "$name"
  if ! "$@"; then
    echo "== $name FAILED =="
    check_failures=$((check_failures + 1))
  fi
}

if compgen -G "proto/shoal/*/*/*.proto" >/dev/null; then
  step "generated code is up to date" npm run --silent gen:check
fi
step "typecheck" npm run --silent typecheck
step "lint" npx eslint .
# A suite that fails without reporting (it crashed, or found no tests) counts as one failure;
# one that reports has its failures counted by the reporter.
suite() {
  local name=$1 config=$2
  printf '\n== %s ==\n' "$name"
  local before after
  before=$(wc -l <"$summary")
  npx mocha --config "$config"
  local rc=$?
  after=$(wc -l <"$summary")
  if [ "$rc" != 0 ] && [ "$after" = "$before" ]; then
    echo "== $name did not report (exit $rc) =="
    check_failures=$((check_failures + 1))
  fi
}

suite "unit tests" .mocharc.json
for s in sim integration; do
  [ -f "test/$s/.mocharc.json" ] && suite "$s tests" "test/$s/.mocharc.json"
done

# The README's first command, end to end (issue 9): a 3-member cluster in network namespaces,
# containers across it, leader killed and restarted, everything removed. Counts as one test.
printf '\n== demo (npm run demo -- --ci) ==\n'
if bash scripts/demo.sh --ci; then
  echo '{"passed":1,"failed":0,"skipped":0}' >>"$summary"
else
  echo "== demo FAILED =="
  echo '{"passed":0,"failed":1,"skipped":0}' >>"$summary"
fi

read -r passed failed skipped < <(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  const t = { passed: 0, failed: 0, skipped: 0 };
  for (const l of lines) { const c = JSON.parse(l); t.passed += c.passed; t.failed += c.failed; t.skipped += c.skipped; }
  console.log(t.passed, t.failed, t.skipped);' "$summary")
failed=$((failed + check_failures))
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" = 0 ] && [ "$skipped" = 0 ]
