# contrib/lib/deps.sh - install the Debian packages the build, tests and demo use.
# Sourced by contrib/test and contrib/demo.  Installs only what is missing,
# so a prepared machine pays nothing.

AM_PACKAGES=(
    # build
    build-essential autoconf automake libtool pkg-config
    libmilter-dev libopendkim-dev libspf2-dev libopendmarc-dev libunbound-dev libssl-dev
    # data
    publicsuffix
    # end-to-end: real Postfix with Cyrus SASL (sasldb), swaks, a milter client
    postfix sasl2-bin libsasl2-modules swaks miltertest
    # independent verifiers and reference implementations
    python3 python3-dkim python3-spf python3-authres python3-yaml python3-nacl
    python3-dnspython libmail-dkim-perl opendkim-tools openssl
    # tools the scripts call
    procps iproute2 psmisc
)

# deps_install - apt-get install whatever of AM_PACKAGES is missing
deps_install() {
    local missing=() p
    for p in "${AM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages (run as root to install them): ${missing[*]}" >&2
        return 1
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Postfix must not configure or start a system instance of its own.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q >/dev/null || return 1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# deps_build DIR [configure args] - autoreconf, configure and make in DIR
deps_build() {
    local top build
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    build=$1
    shift
    (cd "$top" && autoreconf -fi >/dev/null 2>&1) || { echo "autoreconf failed" >&2; return 1; }
    mkdir -p "$build"
    (cd "$build" && "$top/configure" -q "$@" && make -s -j2 >/dev/null) || {
        echo "build failed (see $build)" >&2; return 1; }
}
