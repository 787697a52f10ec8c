#!/usr/bin/env bash
# t/e2e-dmarc.sh - end to end: DMARC (with SPF and DKIM under it) through a
# real Postfix, the real authmilter daemon, swaks playing outside servers
# (--xclient-addr on the inbound port) and smtp-sink capturing deliveries.
# TAP output.
#
# DNS comes only from t/data/e2e-dmarc/dmarc.zone (DNSZoneFile; the harness
# points Nameservers at a dead local port) plus DKIM key records made at
# test time with contrib/keygen.  Foreign signatures are made by dkimpy
# (t/data/e2e-dmarc/sign.py), our own by the daemon on the submission port.
# Every Authentication-Results header of a delivered message is parsed by
# python3-authres (t/data/e2e-dmarc/archeck.py), an independent RFC 8601
# parser, and compared with the result the case expects.
#
# Three daemon configurations in turn: DMARCEnforcement reject (with
# On-DNSError tempfail and a signing key set for own.example), report (with
# On-DNSError accept), quarantine.  Held messages are looked up in Postfix's
# HOLD queue with postqueue -j.  Needs root, Postfix, swaks, openssl and
# Debian's /usr/bin/python3 with python3-dkim, python3-nacl, python3-authres.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/e2e-lib.sh"

PY=/usr/bin/python3
DATA=$top_srcdir/t/data/e2e-dmarc
AUTHSERV=mx.demo.example
PLAN=28
HELD=""    # queue ids the tests expect in the HOLD queue
INBOUND="" # capture files of inbound deliveries (each must carry our A-R)

$PY -c 'import dkim, nacl, authres' 2>/dev/null ||
    bail "$PY has dkim, nacl and authres" "apt-get install python3-dkim python3-nacl python3-authres"
command -v openssl >/dev/null || bail "openssl present"
e2e_start
T="$H_DIR/test"
mkdir -p "$T/keys"

# --- zone with fresh DKIM keys, signing tables, three configurations -------
cp "$DATA/dmarc.zone" "$T/test.zone"
export KEYGEN_RSA_BITS=1024 # fast; DKIM verifiers accept 1024
for spec in "bank.example s2024 rsa" "bank.example ed ed25519" \
    "mail.bank.example s1 rsa" "mail.strict.example s1 rsa" \
    "own.example rsa1 rsa" "own.example ed1 ed25519"; do
    # shellcheck disable=SC2086
    set -- $spec
    "$top_srcdir/contrib/keygen" "$1" "$2" "$3" "$T/keys" >>"$T/test.zone" 2>>"$T/keygen.err" ||
        bail "contrib/keygen $spec" "$(cat "$T/keygen.err")"
done
KEY=$T/keys
cat >"$T/KeyTable" <<EOF
rsa1._domainkey.own.example  own.example:rsa1:$KEY/rsa1.own.example.key
ed1._domainkey.own.example   own.example:ed1:$KEY/ed1.own.example.key
EOF
cat >"$T/SigningTable" <<'EOF'
*@own.example  rsa1._domainkey.own.example
*@own.example  ed1._domainkey.own.example
EOF
echo "alice@own.example  alice" >"$T/sender_login"
# conf FILE ENFORCEMENT ONDNSERROR - a daemon configuration
conf() {
    cat >"$1" <<EOF
AuthservID          $AUTHSERV
SubmissionDaemons   ORIGINATING
SenderLoginMap      @CONFDIR@/sender_login
KeyTable            @CONFDIR@/KeyTable
SigningTable        refile:@CONFDIR@/SigningTable
DNSZoneFile         @CONFDIR@/test.zone
DNSTimeout          3
DMARCEnforcement    $2
On-DNSError         $3
RejectAmbiguousFrom no
EOF
}
conf "$T/reject.conf" reject tempfail
conf "$T/report.conf" report accept
conf "$T/quarantine.conf" quarantine tempfail

# --- helpers -----------------------------------------------------------------
# mkmsg FILE FROM [body text] - a complete message, LF line ends
mkmsg() {
    local file=$1 from=$2 body=${3:-} base
    base=${1##*/}
    {
        printf 'From: %s\n' "$from"
        printf 'To: Rcpt <rcpt@example.com>\n'
        printf 'Subject: e2e-dmarc %s\n' "$base"
        printf 'Date: %s\n' "$(LC_ALL=C date -R)"
        printf 'Message-ID: <%s.%s@e2e-dmarc.test>\n' "$base" "$$"
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
        printf 'Hello,\n\n%s\n  indented line, trailing blanks   \nregards\n' \
            "${body:-please find the quarterly figures below.}"
    } >"$file"
}

# sign IN OUT DOMAIN:SELECTOR:KEYFILE... - dkimpy signs (fails the case on error)
sign() {
    local in=$1 out=$2
    shift 2
    $PY "$DATA/sign.py" "$in" "$out" "$@" 2>"$out.err"
}

# inb NAME IP HELO MAILFROM MSGFILE - an outside server sends on the inbound port
inb() {
    harness_send inbound --xclient-addr "$2" --helo "$3" --from "$4" \
        --to rcpt@example.com --data "$5" >"$T/$1.out"
}

# context FILE - transcript lines for a failure report

# mlog PATTERN - the daemon's log lines matching PATTERN (fixed string)
mlog() { grep -F -- "$1" "$H_DIR/milter/authmilter.log"; }

# expect_refused NAME CODE DSN WORD BEFORE - END refused with CODE DSN (text
#   naming WORD), not queued, nothing new in smtp-sink; 0 if so
expect_refused() {
    local name=$1 code=$2 dsn=$3 word=$4 before=$5 text
    text=$(harness_reply_text "$T/$name.out" END)
    if [ "$(harness_reply "$T/$name.out" END)" != "$code" ] ||
        [ "${text#"$code $dsn"}" = "$text" ] || [ "${text#*"$word"}" = "$text" ]; then
        nok "$name: refused with $code $dsn naming $word" "got: '$text'" "$(context "$T/$name.out")"
    elif grep -q 'queued as' "$T/$name.out"; then
        nok "$name: refused with $code $dsn" "but Postfix queued it" "$(context "$T/$name.out")"
    elif sleep 0.3 && [ "$(harness_sink_count)" -ne "$before" ]; then
        nok "$name: refused with $code $dsn" "but smtp-sink got a message"
    else
        return 0
    fi
    return 1
}


# ar_is NAME FILE WANT - the A-R of FILE, parsed by python3-authres, summarises to WANT
#   (see archeck.py: "spf=R dkim=R:D:ALG,... dmarc=R:FROM:POLICY"); 0 if so
ar_is() {
    local got
    got=$($PY "$DATA/archeck.py" "$AUTHSERV" "$2" 2>&1)
    [ "$got" = "$3" ] && return 0
    nok "$1" "A-R (python3-authres): got  '$got'" "                      want '$3'" \
        "$(harness_header "$2" Authentication-Results)"
    return 1
}

# run_delivered NAME IP HELO MAILFROM MSG WANT DESC - inbound, delivered, A-R is WANT
run_delivered() {
    local name=$1 ip=$2 helo=$3 mf=$4 msg=$5 want=$6 desc=$7
    inb "$name" "$ip" "$helo" "$mf" "$msg"
    expect_delivered "$name" || return 1
    INBOUND="$INBOUND $DELIVERED"
    ar_is "$name: $desc" "$DELIVERED" "$want" || return 1
    ok "$name: $desc; delivered, A-R: $want"
}

# expect_held NAME DESC - 250, the queue id sits in Postfix's HOLD queue, not in smtp-sink
expect_held() {
    local name=$1 desc=$2 qid json
    qid=$(harness_queue_id "$T/$name.out")
    if [ "$(harness_reply "$T/$name.out" END)" != 250 ] || [ -z "$qid" ]; then
        nok "$name: $desc" "$(context "$T/$name.out")"
        return 1
    fi
    sleep 0.5
    json=$(postqueue -c "$H_ETC" -j 2>&1 | grep -F "\"queue_id\": \"$qid\"")
    if ! grep -q '"queue_name": "hold"' <<<"$json" || [ ! -f "$H_SPOOL/hold/$qid" ]; then
        nok "$name: $desc" "queue id $qid not in the HOLD queue" "postqueue -j: '$json'" \
            "$(grep -F "$qid" "$H_LOG" | tail -4)"
    elif [ -n "$(harness_sink_file "$qid")" ]; then
        nok "$name: $desc" "$qid is held AND reached smtp-sink"
    else
        HELD="$HELD $qid"
        ok "$name: $desc; 250, queue id $qid in Postfix's HOLD queue, not delivered"
        return 0
    fi
    return 1
}

SPOOFER=192.0.2.66
SPOOFHELO=mx.spoofer.example
LISTIP=203.0.113.25
LISTHELO=mx.list.example

# the messages (bodies differ so no case can pass on another's result)
mkmsg "$T/spoof-bank" "CEO <ceo@bank.example>" "wire 10000 EUR to the account below today."
mkmsg "$T/orig-bank" "Newsletter <news@bank.example>" "our new savings rates."
sign "$T/orig-bank" "$T/signed-bank" "bank.example:s2024:$KEY/s2024.bank.example.key" ||
    bail "dkimpy signs a message" "$(cat "$T/signed-bank.err")"
# the tampered copy: one body word changed after signing (headers intact)
sed 's/our new savings rates\./our new savings rates: 0%./' "$T/signed-bank" >"$T/tampered-bank"
mkmsg "$T/orig-dual" "Security <security@bank.example>" "your statement is ready."
sign "$T/orig-dual" "$T/signed-dual" "bank.example:s2024:$KEY/s2024.bank.example.key" \
    "bank.example:ed:$KEY/ed.bank.example.key" || true
mkmsg "$T/orig-sub" "Alerts <alerts@bank.example>" "card payment notice."
sign "$T/orig-sub" "$T/signed-sub" "mail.bank.example:s1:$KEY/s1.mail.bank.example.key" || true
mkmsg "$T/orig-strict" "Ops <ops@strict.example>" "maintenance window."
sign "$T/orig-strict" "$T/signed-strict" "mail.strict.example:s1:$KEY/s1.mail.strict.example.key" || true
mkmsg "$T/spoof-shop" "Shop <orders@shop.example>" "your order has shipped, pay the customs fee."
mkmsg "$T/spoof-sub" "IT <it@sub.parent.example>" "reset your password here."
mkmsg "$T/spoof-parent" "HR <hr@parent.example>" "new holiday calendar."
mkmsg "$T/spoof-flaky" "Boss <boss@flaky.example>" "call me."

echo "1..$PLAN"

# ============ DMARCEnforcement reject, On-DNSError tempfail =================
if harness_start_milter "$T/reject.conf" 2>"$T/milter-start.err"; then
    ok "authmilter started (DMARCEnforcement reject, On-DNSError tempfail, own.example keys)"
else
    nok "authmilter started under the harness" "$(cat "$T/milter-start.err")"
fi

# (1) p=reject spoof: unsigned, From bank.example, from an IP its SPF does not list
before=$(harness_sink_count)
inb spoof-reject $SPOOFER $SPOOFHELO ceo@bank.example "$T/spoof-bank"
if expect_refused spoof-reject 550 5.7.1 bank.example "$before"; then
    if mlog 'mail_from=<ceo@bank.example>' | grep -q 'action=reject.*spf=fail.*dmarc=fail'; then
        ok "p=reject spoof from $SPOOFER: 550 5.7.1 naming bank.example at end of data, nothing delivered"
    else
        nok "p=reject spoof: the daemon logged spf=fail dmarc=fail" "$(mlog 'mail_from=<ceo@bank.example>')"
    fi
fi

# (2) list: dkimpy-signed by bank.example, relayed by the list from its own IP
#     with its own envelope sender (SPF passes for list.example, unaligned)
run_delivered list-pass $LISTIP $LISTHELO list-bounces@list.example "$T/signed-bank" \
    "spf=pass dkim=pass:bank.example:rsa-sha256 dmarc=pass:bank.example:reject" \
    "mailing list relay, bank.example DKIM intact, SPF only for list.example -> dmarc=pass via DKIM"
if [ -n "$DELIVERED" ] && grep -q '^DKIM-Signature: .*d=bank.example' "$DELIVERED" &&
    [ "$(harness_header "$DELIVERED" Authentication-Results | grep -c 'header.d=bank.example')" = 1 ]; then
    ok "list-pass: delivered with the dkimpy signature and one A-R naming header.d=bank.example"
else
    nok "list-pass: delivered with the signature and header.d=bank.example" \
        "$(harness_header "${DELIVERED:-/dev/null}" Authentication-Results)"
fi

# (2b) a plain forwarder keeping the original envelope: SPF fails for bank.example
run_delivered forward-pass $LISTIP $LISTHELO news@bank.example "$T/signed-bank" \
    "spf=fail dkim=pass:bank.example:rsa-sha256 dmarc=pass:bank.example:reject" \
    "forwarded, envelope news@bank.example from $LISTIP: spf=fail but DKIM aligned -> dmarc=pass"

# (2c) the tampered copy: body changed after signing -> dkim=fail, dmarc=fail, 550
before=$(harness_sink_count)
inb tampered-reject $LISTIP $LISTHELO list-bounces+tampered@list.example "$T/tampered-bank"
if expect_refused tampered-reject 550 5.7.1 bank.example "$before"; then
    line=$(mlog 'mail_from=<list-bounces+tampered@list.example>')
    if grep -q 'action=reject' <<<"$line" && grep -q 'dkim=bank.example:fail' <<<"$line" &&
        grep -q 'dmarc=fail' <<<"$line"; then
        ok "tampered list copy (body changed): dkim=fail, dmarc=fail, 550 5.7.1, nothing delivered"
    else
        nok "tampered copy: the daemon logged dkim=bank.example:fail dmarc=fail" "$line"
    fi
fi

# relaxed alignment: d=mail.bank.example aligns with bank.example (adkim=r)
run_delivered relaxed-pass $SPOOFER $SPOOFHELO alerts@bank.example "$T/signed-sub" \
    "spf=fail dkim=pass:mail.bank.example:rsa-sha256 dmarc=pass:bank.example:reject" \
    "d=mail.bank.example for From bank.example (adkim=r): relaxed alignment -> dmarc=pass"

# strict alignment: d=mail.strict.example does NOT align with strict.example (adkim=s)
before=$(harness_sink_count)
inb strict-reject $SPOOFER $SPOOFHELO ops@strict.example "$T/signed-strict"
if expect_refused strict-reject 550 5.7.1 strict.example "$before"; then
    line=$(mlog 'mail_from=<ops@strict.example>')
    if grep -q 'dkim=mail.strict.example:pass' <<<"$line" && grep -q 'dmarc=fail' <<<"$line"; then
        ok "adkim=s: valid signature d=mail.strict.example not aligned -> dmarc=fail, 550 naming strict.example"
    else
        nok "adkim=s: the daemon logged dkim pass and dmarc=fail" "$line"
    fi
fi

# sp=reject applies to sub.parent.example (no record of its own); p=none to parent.example
before=$(harness_sink_count)
inb sp-reject $SPOOFER $SPOOFHELO it@sub.parent.example "$T/spoof-sub"
expect_refused sp-reject 550 5.7.1 sub.parent.example "$before" &&
    ok "sp=reject of parent.example: spoof of sub.parent.example refused with 550 5.7.1, nothing delivered"
run_delivered p-none $SPOOFER $SPOOFHELO hr@parent.example "$T/spoof-parent" \
    "spf=fail dkim=none dmarc=fail:parent.example:none" \
    "p=none (sp=reject): spoof of parent.example itself is only reported"

# (3) p=quarantine under DMARCEnforcement reject: held, not delivered, not refused
inb quarantine-under-reject $SPOOFER $SPOOFHELO orders@shop.example "$T/spoof-shop"
expect_held quarantine-under-reject "p=quarantine spoof under DMARCEnforcement reject"

# (4) Ed25519 + RSA dual-signed by dkimpy, sent from the spoofer's IP (SPF fails)
run_delivered dual-sig $SPOOFER $SPOOFHELO security@bank.example "$T/signed-dual" \
    "spf=fail dkim=pass:bank.example:ed25519-sha256,pass:bank.example:rsa-sha256 dmarc=pass:bank.example:reject" \
    "Ed25519 + RSA signatures (dkimpy): two dkim=pass, dmarc=pass"

# (5) our own signatures: alice submits as alice@own.example; the daemon signs
#     with rsa1 and ed1; the capture is re-injected from own.example's server
mkmsg "$T/own" "Alice <alice@own.example>" "signed by authmilter itself."
harness_send submission --auth PLAIN --auth-user alice --auth-password alice-pw \
    --from alice@own.example --to rcpt@example.com --data "$T/own" >"$T/own-submit.out"
if expect_delivered own-submit; then
    sigs=$(harness_header "$DELIVERED" DKIM-Signature)
    if [ "$(grep -c 'd=own.example' <<<"$sigs")" = 2 ] && grep -q 'a=rsa-sha256' <<<"$sigs" &&
        grep -q 'a=ed25519-sha256' <<<"$sigs"; then
        ok "own-submit: alice as alice@own.example signed by the daemon (rsa-sha256 + ed25519-sha256)"
    else
        nok "own-submit: two DKIM-Signature d=own.example (rsa, ed25519)" "$sigs"
    fi
    harness_message "$DELIVERED" >"$T/own-signed"
else
    : >"$T/own-signed"
fi
run_delivered own-verify 198.51.100.200 mail.own.example alice@own.example "$T/own-signed" \
    "spf=pass dkim=pass:own.example:ed25519-sha256,pass:own.example:rsa-sha256 dmarc=pass:own.example:reject" \
    "our own signed message re-injected from 198.51.100.200: both signatures verify, dmarc=pass"
OWN_VERIFIED=$DELIVERED

# (6) SERVFAIL on _dmarc.flaky.example: 451 4.4.3 (never a 5xx), nothing queued or delivered
before=$(harness_sink_count)
qbefore=$(harness_queue_count)
inb servfail $SPOOFER $SPOOFHELO boss@flaky.example "$T/spoof-flaky"
if expect_refused servfail 451 4.4.3 flaky.example "$before"; then
    if [ "$(harness_queue_count)" -eq "$qbefore" ] && ! grep -qE '^<\*\* 5' "$T/servfail.out"; then
        ok "SERVFAIL for _dmarc.flaky.example: 451 4.4.3 (On-DNSError tempfail), no 5xx, nothing queued"
    else
        nok "SERVFAIL: nothing queued, no 5xx" "$(context "$T/servfail.out")"
    fi
fi

# ============ DMARCEnforcement report, On-DNSError accept ===================
if harness_start_milter "$T/report.conf" 2>"$T/milter-start.err"; then
    ok "authmilter restarted (DMARCEnforcement report, On-DNSError accept)"
else
    nok "authmilter restarted on report.conf" "$(cat "$T/milter-start.err")"
fi

# (1') the same p=reject spoof is delivered, reported as dmarc=fail
run_delivered spoof-report $SPOOFER $SPOOFHELO ceo@bank.example "$T/spoof-bank" \
    "spf=fail dkim=none dmarc=fail:bank.example:reject" \
    "report: the p=reject spoof of bank.example"
# (2') the tampered copy shows dkim=fail
run_delivered tampered-report $LISTIP $LISTHELO list-bounces@list.example "$T/tampered-bank" \
    "spf=pass dkim=fail:bank.example:rsa-sha256 dmarc=fail:bank.example:reject" \
    "report: the tampered list copy"
# (3') report never holds
run_delivered quarantine-report $SPOOFER $SPOOFHELO orders@shop.example "$T/spoof-shop" \
    "spf=fail dkim=none dmarc=fail:shop.example:quarantine" \
    "report: the p=quarantine spoof is not held"
# (6') On-DNSError accept: the SERVFAIL case is delivered with dmarc=temperror
inb servfail-accept $SPOOFER $SPOOFHELO boss@flaky.example "$T/spoof-flaky"
if expect_delivered servfail-accept; then
    INBOUND="$INBOUND $DELIVERED"
    got=$($PY "$DATA/archeck.py" "$AUTHSERV" "$DELIVERED" 2>&1)
    if [[ "$got" == "spf=fail dkim=none dmarc=temperror:flaky.example:"* ]]; then
        ok "On-DNSError accept: SERVFAIL case delivered, A-R: $got"
    else
        nok "On-DNSError accept: dmarc=temperror header.from=flaky.example" "got '$got'"
    fi
fi

# ============ DMARCEnforcement quarantine ====================================
if harness_start_milter "$T/quarantine.conf" 2>"$T/milter-start.err"; then
    ok "authmilter restarted (DMARCEnforcement quarantine)"
else
    nok "authmilter restarted on quarantine.conf" "$(cat "$T/milter-start.err")"
fi
inb reject-as-hold $SPOOFER $SPOOFHELO ceo@bank.example "$T/spoof-bank"
expect_held reject-as-hold "p=reject spoof under DMARCEnforcement quarantine (held, not refused)"
inb quarantine-hold $SPOOFER $SPOOFHELO orders@shop.example "$T/spoof-shop"
expect_held quarantine-hold "p=quarantine spoof under DMARCEnforcement quarantine"
run_delivered list-quarantine $LISTIP $LISTHELO list-bounces@list.example "$T/signed-bank" \
    "spf=pass dkim=pass:bank.example:rsa-sha256 dmarc=pass:bank.example:reject" \
    "quarantine mode: the DKIM-aligned list mail is not held"
# the daemon's log says why it held
if [ "$(mlog 'action=quarantine' | grep -c 'dmarc=fail')" -ge 3 ]; then
    ok "the daemon logged action=quarantine with dmarc=fail for every held message"
else
    nok "the daemon logged action=quarantine for the held messages" "$(mlog 'action=quarantine')"
fi

# ============ what the whole run left behind =================================
# (7) every A-R of an inbound delivery parses with python3-authres, exactly one with our id
bad=""
nin=0
for f in $INBOUND; do
    nin=$((nin + 1))
    $PY "$DATA/archeck.py" "$AUTHSERV" "$f" >"$T/archeck.out" 2>&1 || bad="$bad $f: $(cat "$T/archeck.out")"
done
if [ "$nin" -ge 10 ] && [ -z "$bad" ]; then
    ok "all $nin inbound deliveries carry one A-R with authserv-id $AUTHSERV that python3-authres parses"
else
    nok "every inbound A-R parses with python3-authres ($nin deliveries)" "$bad"
fi
# the submission path writes its own A-R (auth=pass smtp.auth=LOGIN); on
# re-injection that one carries our authserv-id, so the inbound side must
# have removed it: own-verify kept exactly one A-R of ours, without auth=
got=$($PY "$DATA/archeck.py" "$AUTHSERV" "$T/own-signed" 2>&1)
inb_ar=$(harness_header "${OWN_VERIFIED:-/dev/null}" Authentication-Results)
if [ "$got" = "spf=- dkim=- dmarc=- auth=pass:alice" ] && [ -n "$inb_ar" ] &&
    ! grep -q 'auth=' <<<"$inb_ar"; then
    ok "submission A-R 'auth=pass smtp.auth=alice' parses; the re-injected copy lost it (one A-R of ours)"
else
    nok "submission A-R parses and is removed on re-injection" "submission: '$got'" "re-injected: '$inb_ar'"
fi
# the HOLD queue holds exactly the held messages; smtp-sink exactly the delivered ones
sleep 0.5
holdq=$(postqueue -c "$H_ETC" -j 2>/dev/null | grep -F '"queue_name": "hold"' |
    sed -n 's/.*"queue_id": "\([0-9A-Za-z]*\)".*/\1/p' | sort | tr '\n' ' ')
want=$(tr ' ' '\n' <<<"$HELD" | grep . | sort | tr '\n' ' ')
if [ -n "$want" ] && [ "$holdq" = "$want" ] && [ "$(harness_sink_count)" -eq "$accepted" ] &&
    [ "$(harness_queue_count)" -eq "$(wc -w <<<"$HELD")" ]; then
    ok "HOLD queue = the $(wc -w <<<"$HELD") held messages; smtp-sink = the $accepted delivered; nothing else queued"
else
    nok "HOLD queue and smtp-sink hold exactly what the cases expect" \
        "hold: '$holdq' want '$want'" "sink $(harness_sink_count), expected $accepted;" \
        "queue $(harness_queue_count)"
fi

e2e_finish "$PLAN" e2e-dmarc
