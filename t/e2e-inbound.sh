#!/usr/bin/env bash
# t/e2e-inbound.sh - end to end: SPF and Authentication-Results on the inbound
# port of a real Postfix, outside clients played with XCLIENT.  TAP output.
#
# The daemon's DNS is t/data/e2e/inbound.zone (DNSZoneFile; SERVFAIL is
# simulated there).  Every case asserts the SMTP reply, whether smtp-sink got
# the message, and the A-R the daemon wrote, read back by python3-authres
# (t/data/e2e/ar-parse.py): SPF pass/fail/softfail/neutral/none/permerror,
# the null sender's HELO check, a DNS failure (451 4.4.3, then accepted with
# spf=temperror after a SIGHUP to On-DNSError accept), forged A-R removal
# with foreign A-R kept in order, a 100 KB header, submission auth=pass.
# Needs root; everything on 127.0.0.1; removed at exit (KEEP=1 keeps it).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/e2e-lib.sh"

PY=/usr/bin/python3
ARPARSE=$top_srcdir/t/data/e2e/ar-parse.py
ID=mx.demo.example
CLIENT=192.0.2.10
PLAN=21
e2e_start

# expect_delivered_ar NAME - expect_delivered, then AR: the message's A-R as
#   python3-authres parses them
expect_delivered_ar() {
    AR=""
    expect_delivered "$1" || return 1
    AR=$("$PY" "$ARPARSE" "$MSG" 2>&1)
}
T="$H_DIR/test"
mkdir -p "$T"

cat >"$T/sender_login" <<'MAP'
alice@demo.example      alice
MAP
cat >"$T/authmilter.conf" <<CONF
AuthservID          $ID
SubmissionDaemons   ORIGINATING
SenderLoginMap      $T/sender_login
DNSZoneFile         $top_srcdir/t/data/e2e/inbound.zone
DMARCEnforcement    report
On-DNSError         tempfail
CONF

# mkmsg FILE FROM [extra header lines...] - a complete message
mkmsg() {
    local file=$1 from=$2 h base
    base=$(basename "$file")
    shift 2
    {
        for h in "$@"; do printf '%s\n' "$h"; done
        printf 'From: %s\n' "$from"
        printf 'To: Rcpt <rcpt@example.com>\n'
        printf 'Subject: e2e inbound %s\n' "$base"
        printf 'Date: %s\n' "$(LC_ALL=C date -R)"
        printf 'Message-ID: <%s.%s@client.example>\n' "$base" "$$"
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
        printf 'Body of %s.\n' "$base"
    } >"$file"
}

# inb NAME MAILFROM MSGFILE [swaks args] - send on the inbound port from $CLIENT
inb() {
    local name=$1 mf=$2 msg=$3
    shift 3
    harness_send inbound --xclient-addr "$CLIENT" --from "$mf" --to rcpt@example.com \
        --data "$msg" "$@" >"$T/$name.out"
}

# context FILE - transcript lines for a failure report


# ours - the parsed A-R lines carrying our authserv-id (case-insensitive)
ours() { grep -iE "^[0-9]+ $ID;" <<<"$AR"; }

# expect_ar NAME DESC RESULT... - exactly one A-R of ours, the first header
#   of the message, parsed by python3-authres, having every RESULT, e.g.
#   "spf=pass smtp.mailfrom=bob@pass.example.org" (an exact result with
#   all its properties; a reason="..." is not compared)
expect_ar() {
    local name=$1 desc=$2 mine p results
    shift 2
    mine=$(ours)
    if [ "$(grep -c . <<<"$mine")" -ne 1 ] || [ "${mine%% *}" != 1 ]; then
        nok "$name: $desc" "want one A-R of ours as header 1; python3-authres says:" "$AR" \
            "$(head -8 "$MSG")"
        return 1
    fi
    results=$(cut -d' ' -f2- <<<"$mine" | sed 's/; /\n/g; s/ reason="[^"]*"//')
    for p in "$@"; do
        if ! grep -qxF -- "$p" <<<"$results"; then
            nok "$name: $desc" "A-R lacks '$p'" "$mine"
            return 1
        fi
    done
    ok "$name: $desc"
}

# expect_tempfail NAME - 451 4.4.3 at end of data, nothing queued or delivered
expect_tempfail() {
    local name=$1 before=$2 text
    text=$(harness_reply_text "$T/$name.out" END)
    sleep 0.3
    if [ "${text#451 4.4.3}" != "$text" ] && ! grep -q 'queued as' "$T/$name.out" &&
        [ "$(harness_sink_count)" -eq "$before" ] && [ "$(harness_queue_count)" -eq 0 ]; then
        ok "$name: '$text', nothing queued or delivered"
    else
        nok "$name: 451 4.4.3 and nothing delivered" "got '$text'" "$(context "$T/$name.out")"
    fi
}

echo "1..$PLAN"

# 1 - the daemon starts on the zone
if harness_start_milter "$T/authmilter.conf" 2>"$T/milter-start.err"; then
    ok "authmilter started with DNSZoneFile t/data/e2e/inbound.zone"
else
    nok "authmilter started" "$(cat "$T/milter-start.err")"
fi

# 2..7 - SPF results for MAIL FROM (never enforced: all delivered)
for c in pass fail softfail neutral none permerror; do
    dom=$c.example.org
    [ "$c" = permerror ] && dom=perm.example.org
    mkmsg "$T/m-spf-$c" "Bob <bob@$dom>"
    inb "spf-$c" "bob@$dom" "$T/m-spf-$c"
    if expect_delivered_ar "spf-$c"; then
        expect_ar "spf-$c" "delivered, A-R spf=$c smtp.mailfrom=bob@$dom (HELO checked too)" \
            "spf=$c smtp.mailfrom=bob@$dom" "spf=none smtp.helo=client.demo.example"
    fi
done

# 8 - null sender: only the HELO identity is checked (a:gw.example.org -> pass)
mkmsg "$T/m-null" "Mailer-Daemon <mailer-daemon@helo.example.org>"
inb null '<>' "$T/m-null" --helo helo.example.org
if expect_delivered_ar null; then
    if grep -q '^ -> MAIL FROM:<>' "$T/null.out" && ! ours | grep -q 'smtp.mailfrom='; then
        expect_ar null "MAIL FROM:<>: A-R spf=pass smtp.helo=helo.example.org, no smtp.mailfrom" \
            "spf=pass smtp.helo=helo.example.org"
    else
        nok "null sender: HELO only" "$(grep -- '-> MAIL' "$T/null.out")" "$(ours)"
    fi
fi

# 9 - DNS SERVFAIL for the sender domain: 451 4.4.3, nothing delivered
mkmsg "$T/m-dnsfail" "Bob <bob@dnsfail.example.org>"
before=$(harness_sink_count)
inb dnsfail bob@dnsfail.example.org "$T/m-dnsfail"
expect_tempfail dnsfail "$before"

# 10, 11 - SIGHUP to On-DNSError accept: the same message is delivered, spf=temperror
sed -i 's/^On-DNSError[[:space:]].*/On-DNSError accept/' "$H_MILTER_CONF"
harness_reload_milter 3
inb dnsfail-accept bob@dnsfail.example.org "$T/m-dnsfail"
if ! grep -qx 'On-DNSError accept' "$H_MILTER_CONF" || ! harness_milter_running; then
    nok "dnsfail-accept: milter reloaded with On-DNSError accept" "$(tail -3 "$H_DIR/milter/authmilter.log")"
elif expect_delivered_ar dnsfail-accept; then
    expect_ar dnsfail-accept "after SIGHUP with On-DNSError accept: delivered, spf=temperror" \
        "spf=temperror smtp.mailfrom=bob@dnsfail.example.org"
fi
# and back: tempfail again after the next reload (the switch really is the config)
sed -i 's/^On-DNSError[[:space:]].*/On-DNSError tempfail/' "$H_MILTER_CONF"
harness_reload_milter 3
before=$(harness_sink_count)
inb dnsfail-again bob@dnsfail.example.org "$T/m-dnsfail"
expect_tempfail dnsfail-again "$before"

# 12..15 - forged A-R: ours (plain, upper case, leading comment, folded,
# unparsable) interleaved with foreign ones, a look-alike id included
FOREIGN=(
    "foreign1.example; spf=pass smtp.mailfrom=x@a.example"
    "foreign2.example; dkim=pass header.d=b.example"
    "$ID.evil.example; dmarc=pass header.from=c.example"
    "foreign3.example 1; none"
    "(a comment) foreign4.example; auth=pass smtp.auth=someone"
)
mkmsg "$T/m-forged" "Bob <bob@pass.example.org>" \
    "Authentication-Results: ${FOREIGN[0]}" \
    "Authentication-Results: $ID; spf=pass smtp.mailfrom=forged@pass.example.org" \
    "Authentication-Results: ${FOREIGN[1]}" \
    "Authentication-Results: MX.DEMO.EXAMPLE; dkim=pass header.d=forged.example" \
    "Authentication-Results: ${FOREIGN[2]}" \
    "Authentication-Results: (forged, with a comment) $ID; dmarc=pass header.from=pass.example.org" \
    "Authentication-Results: ${FOREIGN[3]}" \
    "Authentication-Results: $ID;;; (((( unparsable garbage" \
    "Authentication-Results:" \
    "	$ID; auth=pass smtp.auth=forged" \
    "Authentication-Results: ${FOREIGN[4]}"
inb forged bob@pass.example.org "$T/m-forged"
if expect_delivered_ar forged; then
    mine=$(ours)
    first=$(sed -n '1p' "$MSG")
    if [ "$(grep -c . <<<"$mine")" -eq 1 ] && [ "${mine%% *}" = 1 ] &&
        [ "${first#"Authentication-Results: $ID;"}" != "$first" ] &&
        sed -n '2,/^$/p' "$MSG" | grep -q '^Received: ' &&
        ! grep -qiE 'forged' <<<"$mine"; then
        ok "forged: exactly one A-R of ours, the first header (above Received), none of the forged results"
    else
        nok "forged: exactly one A-R of ours at the top" "parsed:" "$AR" "$(head -5 "$MSG")"
    fi
    got=$(harness_header "$MSG" Authentication-Results | grep -viE "^(\([^)]*\) *)?$ID;")
    want=$(printf '%s\n' "${FOREIGN[@]}")
    if [ "$got" = "$want" ]; then
        ok "forged: all ${#FOREIGN[@]} foreign A-R kept, unchanged, in their original order"
    else
        nok "forged: foreign A-R kept in order" "got:" "$got" "want:" "$want"
    fi
    if ! grep -qi 'forged\|garbage\|UNPARSABLE' <<<"$AR
$(harness_header "$MSG" Authentication-Results)"; then
        ok "forged: no trace left of the five forged A-R (plain, upper case, comment, garbage, folded)"
    else
        nok "forged: no forged A-R left" "$(harness_header "$MSG" Authentication-Results)"
    fi
    expect_ar forged "the A-R we wrote parses: spf=pass smtp.mailfrom=bob@pass.example.org" \
        "spf=pass smtp.mailfrom=bob@pass.example.org"
else
    nok "forged: foreign A-R kept in order" "(not delivered)"
    nok "forged: no forged A-R left" "(not delivered)"
    nok "forged: our A-R parses" "(not delivered)"
fi

# 16..18 - 100 KB of header.  The milter must not drop the connection
# (libmilter's 64 KB packet limit; milter_default_action = tempfail would
# turn that into a 451).  Measured here: Postfix 3.7 with ANY milter attached
# (also a do-nothing libmilter filter) keeps only the first ~60,000 bytes of
# one header field, silently, while without milters it keeps all 100 KB;
# so one 100 KB field must arrive as a leading part of at least 59,000
# bytes, and two 50 KB fields (a 100 KB header block) byte for byte.
# mkfield NAME LINES - a header field folded into LINES lines of 84 bytes
mkfield() {
    local i
    printf '%s: start' "$1"
    for i in $(seq "$2"); do printf '\n %04d-%s' "$i" \
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-abcdefghijklmn"; done
    printf '\n'
}
# field FILE NAME - the folded lines of header field NAME in message FILE
field() { awk -v h="$2: " 'index($0, h) == 1 { on = 1; print; next } on && /^[ \t]/ { print; next } { on = 0 }' "$1"; }
mkfield X-Long 1190 >"$T/x-long"
mkfield X-Half-1 595 >"$T/x-half"
mkfield X-Half-2 595 >>"$T/x-half"
size=$(wc -c <"$T/x-long")
half=$(wc -c <"$T/x-half")
maxline=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/x-long" "$T/x-half")
mkmsg "$T/m-long" "Bob <bob@pass.example.org>" "$(cat "$T/x-long")"
mkmsg "$T/m-halves" "Bob <bob@pass.example.org>" "$(cat "$T/x-half")"
if [ "$size" -lt 99000 ] || [ "$size" -gt 101000 ] || [ "$half" -lt 99000 ] ||
    [ "$half" -gt 101000 ] || [ "$maxline" -ge 998 ]; then
    nok "long header: the test fields are ~100 KB in lines < 998" "sizes $size $half, longest line $maxline"
    nok "long header: A-R added" "(bad fixture)"
    nok "two 50 KB fields: delivered intact" "(bad fixture)"
else
    inb long bob@pass.example.org "$T/m-long"
    if expect_delivered_ar long; then
        field "$MSG" X-Long >"$T/x-long.got"
        got=$(wc -c <"$T/x-long.got")
        if [ "$got" -ge 59000 ] && head -n "$(wc -l <"$T/x-long.got")" "$T/x-long" | cmp -s - "$T/x-long.got"; then
            ok "one $size-byte field (lines <= $maxline): 250, not tempfailed (milter connection held); delivered, first $got bytes intact (Postfix's cut)"
        else
            nok "one 100 KB field delivered (at least its first 59,000 bytes intact)" "got $got bytes" \
                "$(diff "$T/x-long.got" "$T/x-long" | head -4)"
        fi
        expect_ar long "100 KB field: A-R added as usual" "spf=pass smtp.mailfrom=bob@pass.example.org"
    else
        nok "long header: A-R added" "(not delivered)"
    fi
    inb halves bob@pass.example.org "$T/m-halves"
    if expect_delivered_ar halves; then
        { field "$MSG" X-Half-1; field "$MSG" X-Half-2; } >"$T/x-half.got"
        if cmp -s "$T/x-half.got" "$T/x-half" &&
            [ "$(ours | cut -d' ' -f1)" = 1 ] &&
            ours | grep -qF "; spf=pass smtp.mailfrom=bob@pass.example.org;"; then
            ok "two 50 KB fields ($half bytes of header): delivered byte for byte, A-R added"
        else
            nok "two 50 KB fields delivered intact with A-R" "$(diff "$T/x-half.got" "$T/x-half" | head -4)" "$(ours)"
        fi
    fi
fi

# 18 - submission: auth=pass smtp.auth=alice (and no SPF of 127.0.0.1)
mkmsg "$T/m-sub" "Alice <alice@demo.example>"
harness_send submission --auth PLAIN --auth-user alice --auth-password alice-pw \
    --from alice@demo.example --to rcpt@example.com --data "$T/m-sub" >"$T/sub.out"
if expect_delivered_ar sub; then
    expect_ar sub "submission (alice): A-R auth=pass smtp.auth=alice" "auth=pass smtp.auth=alice"
fi

# 19 - every A-R we wrote in this test parsed with our authserv-id
bad=
checked=0
for f in "$T"/*.eml; do
    checked=$((checked + 1))
    "$PY" "$ARPARSE" "$f" | grep "^1 $ID; " >/dev/null || bad="$bad $(basename "$f")"
done
if [ -z "$bad" ] && [ "$checked" -eq "$accepted" ]; then
    ok "python3-authres parses the A-R we wrote in all $accepted delivered messages, authserv-id $ID"
else
    nok "python3-authres parses every A-R we wrote" "failed:$bad"
fi

# 20 - nothing arrived that a test did not expect
e2e_sink_check

e2e_finish "$PLAN" e2e-inbound
