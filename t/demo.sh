#!/usr/bin/env bash
# t/demo.sh - the README's first command keeps working: contrib/demo runs its
# samples against a throwaway Postfix and this build, and exits cleanly.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
out=$(mktemp /tmp/demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT
DEMO_EXIT=1 DEMO_NO_BUILD=1 BUILD_DIR=$top_builddir timeout 300 "$top_srcdir/contrib/demo" </dev/null >"$out" 2>&1
rc=$?
n=0
t() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; tail -20 "$out" | sed 's/^/#   /'; fi; }
t "contrib/demo exits 0" '[ "$rc" -eq 0 ]'
t "every demo sample has the expected outcome" 'grep -q "samples sent, 0 unexpected outcome" "$out"'
t "the demo shows refused and accepted cases" 'grep -q "=> REFUSED" "$out" && grep -q "=> ACCEPTED" "$out"'
t "the demo cleans up after itself" 'grep -q "stopped, cleaned up" "$out"'
echo "1..$n"
