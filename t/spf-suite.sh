#!/bin/bash
# spf-suite.sh - the RFC 7208 conformance suite through spf_check()
#
# Reads $top_srcdir/../shared/conformance/spf/rfc7208-tests.yml (never copied
# into the repository), converts each scenario's zonedata into a DNSZoneFile
# with t/spf-suite-zones.py (Debian's python3-yaml, hence /usr/bin/python3)
# and runs t/spf-suite over them: one TAP line per case.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
yml=${SPF_SUITE_YML:-$top_srcdir/../shared/conformance/spf/rfc7208-tests.yml}
if [ ! -r "$yml" ]; then
    echo "1..0 # SKIP $yml not found"
    exit 0
fi
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    echo "1..0 # SKIP python3-yaml not installed"
    exit 0
fi
dir=$(mktemp -d /tmp/spf-suite.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
if ! /usr/bin/python3 "$top_srcdir/t/spf-suite-zones.py" "$yml" "$dir"; then
    echo "1..1"
    echo "not ok 1 - converting $yml"
    exit 1
fi
"$top_builddir/t/spf-suite" "$dir"
