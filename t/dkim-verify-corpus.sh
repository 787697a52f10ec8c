#!/bin/bash
# dkim-verify-corpus.sh - DKIM verification against a corpus signed by
# python3-dkim at test time (keys, zone and tampering generated here).
# Needs Debian's /usr/bin/python3 with python3-dkim and python3-nacl.
: "${top_srcdir:=.}" "${top_builddir:=.}"
if ! /usr/bin/python3 -c 'import dkim, nacl.signing' 2>/dev/null; then
    echo "1..0 # SKIP python3-dkim or python3-nacl missing"
    exit 0
fi
exec /usr/bin/python3 "$top_srcdir/t/dkim-verify-corpus.py" \
    "$top_builddir/t/dkim-verify-drv" "$top_srcdir/t/data/verify" ${SEED:+"$SEED"}
