#!/usr/bin/env bash
# make bench: each of Dialtone's services against the peer an admin would otherwise run,
# in one run on this machine, with the same data and the same load tool, printing both
# figures and the ratio. Needs the peers and load tools of ../shared/bench:
#   apt-get install -y kamailio slapd ldap-utils tftpd-hpa tftp-hpa nginx wrk sip-tester time
#   bench/run.sh ./bin/dialtone [http] [https] [tftp] [sip] [ldap] [flex] [calls]
#   bench/run.sh ./bin/dialtone scaling    (not run by default: one node at 1k/10k/100k phones)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
shared=${SHARED:-$(cd "$here/../../shared/bench" && pwd)}
what=("$@"); [ ${#what[@]} -gt 0 ] || what=(http https tftp sip ldap flex calls)
work=$(mktemp -d /tmp/dialtone-bench.XXXXXX)
chmod 755 "$work" # nginx and tftpd workers run as another user and must reach the peer files
export PEER_DIR=$work/peers
DUR=${DUR:-10s}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

( cd "$shared" && go build -o "$work/tftpload" ./tftpload && go build -o "$work/ldapload" ./ldapload )

# dialtone_with CSV: a fresh data directory with CSV imported offline, then serve on free
# loopback ports (HTTPS, SIP over TLS and LDAPS too, never their default ports). Sets DATA
# HTTP HTTPS TFTP SIP LDAP TOKEN PROV_TOKEN.
dialtone_with() {
  local data=$work/data-$RANDOM; DATA=$data
  "$bin" import-users "$1" --tenant default --data "$data" >/dev/null
  "$bin" serve --data "$data" --http 127.0.0.1:0 --https 127.0.0.1:0 --tftp 127.0.0.1:0 \
    --sip 127.0.0.1:0 --sips 127.0.0.1:0 --ldap 127.0.0.1:0 --ldaps 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --public-host 127.0.0.1 --log-level info 2>"$data.log" >/dev/null &
  DIALTONE_PID=$!; pids+=("$DIALTONE_PID")
  local i; for i in $(seq 100); do grep -q 'svc=ldap' "$data.log" 2>/dev/null && break; sleep 0.1; done
  addr() { grep "msg=listening svc=$1 " "$data.log" | head -1 | sed -E 's/.* addr=([^ ]+).*/\1/'; }
  HTTP=$(addr http); HTTPS=$(addr https); TFTP=$(addr tftp); SIP=$(addr sip); LDAP=$(addr ldap)
  # import-users printed no admin password: the bootstrap happened in import-users' open.
  TOKEN=$(curl -sf "http://$HTTP/api/v1/auth/login" -d "{\"email\":\"admin@localhost\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token)
  PROV_TOKEN=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/tenants/default" | jq -r .provisioning_token)
}
export DIALTONE_ADMIN_PASSWORD=${ADMIN_PASSWORD:=bench-admin-password}

# pad_yealink_to BYTES: a rendered config is ~2 KiB, the peers' files ~4.3 KiB. The
# tenant's raw Yealink settings (what an admin adds beside the template) pad Dialtone's
# to at least BYTES, so neither side sends less. Sets PEER_SIZE and PADDED_SIZE.
pad_yealink_to() {
  PEER_SIZE=$1
  local cfg n settings
  cfg() { curl -sf -A "Yealink SIP-T46U 108.86.0.20" "http://$HTTP/p/$PROV_TOKEN/001565000001.cfg" | wc -c; }
  n=$(( (PEER_SIZE - $(cfg)) / 34 + 1 )) # each setting line is 35 bytes
  settings=$(seq 1 "$n" | awk '{ printf "%s\"features.bench_pad_%03d\": \"value%03d\"", (NR > 1 ? "," : ""), $1, $1 }')
  curl -sf -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    "http://$HTTP/api/v1/tenants/default" -d "{\"settings\": {\"yealink\": {$settings}}}" >/dev/null
  PADDED_SIZE=$(cfg)
}

# tree_ticks PID...: user+system CPU ticks of the processes and their children (Kamailio
# and nginx fork workers).
tree_ticks() {
  local t=0 p v
  for p in "$@" $(for q in "$@"; do pgrep -P "$q" 2>/dev/null; done); do
    v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo "$t"
}

free_udp_port() { # a UDP port nothing listens on
  local p=$((20000 + RANDOM % 10000))
  while ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; do p=$((20000 + RANDOM % 10000)); done
  echo "$p"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# report WHAT PEER PEER-RATE DIALTONE-RATE [NOTE] [RATIO]: RATIO when given (a median of
# per-round ratios), else DIALTONE-RATE / PEER-RATE.
report() { printf '%-5s peer %-10s %10.0f/s   dialtone %10.0f/s   ratio %s×   %s\n' "$1" "$2" "$3" "$4" "${6:-$(ratio "$4" "$3")}" "${5:-}"; }

phones_csv() { # N Yealink phones, one user each
  echo "FirstName,LastName,Number,MAC,Model"
  local i; for ((i = 0; i < $1; i++)); do printf 'Bench,User%d,%d,%012x,T46U\n' "$i" $((1000 + i)) $((0x001565000000 + i)); done
}

for w in "${what[@]}"; do
  source "$here/$w.sh"
done
