# t/e2e-lib.sh - the shared start of the end-to-end tests (sourced).
#
# Defines the TAP counters and ok/nok/bail, and e2e_start, which checks that
# the daemon is built and starts the throwaway Postfix of
# contrib/lib/harness.sh (set H_USERS and friends before calling it).  On
# failure e2e_start prints a one-line plan with the reason and exits 1: a
# missing binary or Postfix is a failure, never a pass.

. "$top_srcdir/contrib/lib/harness.sh"

T0=$(date +%s)
n=0
failed=0
accepted=0 # messages the tests expect smtp-sink to hold in the end

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift
    local l; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
bail() { echo "1..1"; nok "$@"; exit 1; }

# e2e_start - the daemon binary must exist; start Postfix and smtp-sink
e2e_start() {
    local err="${TMPDIR:-/tmp}/e2e-start.$$"
    [ -x "$H_AUTHMILTER" ] || bail "authmilter binary present at $H_AUTHMILTER" "build it: make milter/authmilter"
    if ! harness_start 2>"$err"; then
        local why
        why=$(cat "$err")
        rm -f "$err"
        bail "throwaway Postfix + smtp-sink started" "$why"
    fi
    rm -f "$err"
}

# context FILE - the SMTP dialogue of a swaks transcript, for diagnostics
context() { grep -E '^(<-|<\*\*| ->) ' "$1" | grep -vE '^<-  250-' | tail -12; }

# expect_delivered NAME - $T/NAME.out was accepted (250) and reached smtp-sink;
#   sets QID, DELIVERED (the capture) and MSG ($T/NAME.eml, the message as
#   delivered, without smtp-sink's own lines); 0 if so, else one "not ok"
expect_delivered() {
    local name=$1
    DELIVERED="" MSG=""
    QID=$(harness_queue_id "$T/$name.out")
    if [ "$(harness_reply "$T/$name.out" END)" != 250 ] || [ -z "$QID" ]; then
        nok "$name: accepted and delivered" "$(context "$T/$name.out")"
        return 1
    fi
    if ! DELIVERED=$(harness_wait_delivered "$QID" 15 2>"$T/$name.err"); then
        nok "$name: accepted and delivered" "queued as $QID, never reached smtp-sink" \
            "$(cat "$T/$name.err")"
        return 1
    fi
    accepted=$((accepted + 1))
    MSG="$T/$name.eml"
    harness_message "$DELIVERED" >"$MSG"
    return 0
}

# e2e_sink_check - the last case: smtp-sink holds exactly the $accepted
#   messages the tests expected and nothing is left in the queue
e2e_sink_check() {
    sleep 0.5
    if [ "$(harness_sink_count)" -eq "$accepted" ] && [ "$(harness_queue_count)" -eq 0 ]; then
        ok "smtp-sink holds exactly the $accepted accepted messages; the queue is empty"
    else
        nok "smtp-sink holds exactly the accepted messages" \
            "sink $(harness_sink_count), expected $accepted; queue $(harness_queue_count)"
    fi
}

# e2e_finish PLAN NAME - every planned case ran; print the run time; the exit status
e2e_finish() {
    [ "$n" -eq "$1" ] || nok "ran all $1 cases (ran $n)"
    echo "# $2 run time: $(($(date +%s) - T0)) s"
    [ "$failed" -eq 0 ]
}
