# Calls through the proxy: Kamailio as a stateful proxy (tm, record-route, registrar
# lookup, digest on REGISTER and INVITE) against Dialtone, both holding 10,000 extensions
# registered at one answering SIPp (../shared/bench/sipp/answer.xml: 180, 200 with the
# Record-Route echoed, ACK, BYE, 200). The callers (call-auth.xml: INVITE, 407, ACK,
# INVITE with credentials, 200, ACK, BYE, 200) run closed loop, CALLS_CONC calls in
# flight for CALLS_SECS seconds: offered as a fixed rate above ~300/s on two shared cores,
# Kamailio's completed rate collapses as retransmissions pile up, which measures the load
# tool, not the proxy. Sourced by bench/run.sh.
#   CALLS_SECS (default 60), CALLS_CONC (default 32), CALLS_HOLD (default 1000 dialogs
#   held open for the RSS figure; 0 skips it), CALLS_PEER (default 1; 0 runs Dialtone
#   alone, for A/B runs of a change)
#
# Printed for each side: completed calls per second, failed calls, server CPU per call
# (utime+stime of the server and its children, /proc), p99 post-dial delay, and the
# server's RSS just before CALLS_HOLD dialogs are set up and with them all up (and the
# difference per dialog). The held dialogs come right after registration, before the
# load: a Go heap keeps the peak the load reached for a while, so read after it the RSS
# said more of the load than of the dialogs. The post-dial delay is SIPp's response
# time of call-auth.xml: from the first INVITE to the 200 (the 407 round trip included, as
# a phone's user waits through it); the answering SIPp sends 180 and 200 at once, so it
# bounds INVITE-to-180 from above.
CALLS_SECS=${CALLS_SECS:-60}
CALLS_CONC=${CALLS_CONC:-32}
CALLS_HOLD=${CALLS_HOLD:-1000}
CALLS_USERS=10000

calls_rss_kb() { # PID: resident set of a process and its children, KB
  local t=0 p v
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
    v=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo "$t"
}

# calls_screen FILE: sets OK and FAILED from a SIPp screen file.
calls_screen() {
  OK=$(awk -F'|' '/Successful call/ { gsub(/ /, "", $3); v = $3 } END { print v + 0 }' "$1" 2>/dev/null)
  FAILED=$(awk -F'|' '/Failed call/ { gsub(/ /, "", $3); v = $3 } END { print v + 0 }' "$1" 2>/dev/null)
}

# calls_side NAME TARGET DOMAIN REGFILE CALLFILE SERVER_PID: registers every extension at
# a fresh answering SIPp, holds CALLS_HOLD dialogs, then runs the callers. Sets RATE
# FAILED CPU_US PDD99 RSS_IDLE RSS_HELD RSS_PER.
calls_side() {
  local name=$1 target=$2 domain=$3 regs=$4 callfile=$5 spid=$6
  local aport cport hport apid t0 t1 secs
  aport=$(free_udp_port)
  sipp -sf "$shared/sipp/answer.xml" -i 127.0.0.1 -p "$aport" -nostdin -buff_size 4194304 \
    -max_recv_loops 10000 >"$work/calls-$name-answer.out" 2>&1 &
  apid=$!
  pids+=("$apid")
  # Every extension registered with its Contact at the answering SIPp.
  timeout 120 sipp -sf "$shared/sipp/register-to.xml" -inf "$regs" -key contact "127.0.0.1:$aport" \
    -r 2000 -m "$CALLS_USERS" -i 127.0.0.1 -p "$(free_udp_port)" -nostdin -trace_screen \
    -screen_file "$work/calls-$name-reg.screen" -buff_size 4194304 "$target" >/dev/null 2>&1 || true
  calls_screen "$work/calls-$name-reg.screen"
  [ "$OK" -eq "$CALLS_USERS" ] || echo "    $name: $OK of $CALLS_USERS extensions registered" >&2

  # The held dialogs first, on the server as registration left it: after the load its
  # RSS holds the peak the load reached (a Go heap does not give it back at once).
  # CALLS_HOLD calls up at once, each held 30 s: the RSS is read before they start and
  # when all are up, and the difference divided among them.
  RSS_HELD=- RSS_IDLE=- RSS_PER=-
  if [ "$CALLS_HOLD" -gt 0 ]; then
    hport=$(free_udp_port)
    local idle held i
    idle=$(calls_rss_kb "$spid")
    ( cd "$work" && timeout 120 sipp -sf "$shared/sipp/call-auth.xml" -inf "$callfile" -r 200 \
      -l "$CALLS_HOLD" -m "$CALLS_HOLD" -d 30000 -i 127.0.0.1 -p "$hport" -nostdin -trace_screen \
      -screen_file "$work/calls-$name-hold.screen" -trace_err -error_file "$work/calls-$name-hold.err" \
      -buff_size 4194304 "$target" >/dev/null 2>&1 ) &
    local hold=$!
    for i in $(seq 20); do sleep 1; done
    held=$(calls_rss_kb "$spid")
    wait "$hold" || true
    calls_screen "$work/calls-$name-hold.screen"
    if ! grep -q 'Successful call' "$work/calls-$name-hold.screen" 2>/dev/null; then
      echo "    $name: the held calls' SIPp did not end within 120 s (calls left hanging)" >&2
    elif [ "$OK" -ne "$CALLS_HOLD" ]; then
      echo "    $name: $OK of $CALLS_HOLD held calls completed, $FAILED failed" >&2
    fi
    RSS_IDLE="$((idle / 1024)) MB" RSS_HELD="$((held / 1024)) MB"
    RSS_PER="$(awk -v d=$((held - idle)) -v n="$CALLS_HOLD" 'BEGIN { printf "%.1f", d / n }') KB"
  fi

  cport=$(free_udp_port)
  t0=$(tree_ticks "$spid")
  # SIPp ends on the signal and writes its final screen: the calls completed in CALLS_SECS.
  ( cd "$work" && timeout -s INT "$CALLS_SECS" sipp -sf "$shared/sipp/call-auth.xml" -inf "$callfile" \
    -r 10000 -l "$CALLS_CONC" -d 0 -i 127.0.0.1 -p "$cport" -nostdin \
    -trace_screen -screen_file "$work/calls-$name.screen" -trace_rtt -rtt_freq 1 \
    -trace_err -error_file "$work/calls-$name.err" -buff_size 4194304 -max_recv_loops 10000 \
    "$target" >"$work/calls-$name.out" 2>&1 ) || true
  t1=$(tree_ticks "$spid")
  # Stopped by the signal, SIPp writes its last screens to stdout, not the screen file.
  local scr=$work/calls-$name.screen
  grep -q 'Successful call' "$scr" 2>/dev/null || scr=$work/calls-$name.out
  calls_screen "$scr"
  secs=$(awk '/Total-time/ { getline; for (i = 1; i <= NF; i++) if ($(i + 1) == "s") v = $i } END { print v }' "$scr" 2>/dev/null)
  RATE=$(awk -v ok="$OK" -v t="$secs" 'BEGIN { if (t > 0) printf "%.0f", ok / t; else print 0 }')
  CPU_US=$(awk -v d=$((t1 - t0)) -v n="$OK" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0f", d / hz * 1e6 / n; else print "?" }')
  # SIPp's response times (ms), one line a call: the 99th percentile.
  PDD99=$(cat "$work"/call-auth_*_rtt.csv 2>/dev/null </dev/null | awk -F';' 'NR > 1 && $2 ~ /^[0-9.]+$/ { print $2 }' |
    sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "?"; exit } i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; print v[i] " ms" }' || true)
  mkdir -p "$work/rtt-$name"; mv "$work"/call-auth_*_rtt.csv "$work/rtt-$name/" 2>/dev/null || true
  if [ "$FAILED" -gt 0 ] && [ -s "$work/calls-$name.err" ]; then
    grep -o 'Aborting call.*' "$work/calls-$name.err" | sed -E "s/Call-I[dD] '[^']*'//; s/[0-9]{4}-[0-9]{2}-[0-9]{2}.*//" |
      sort | uniq -c | sort -rn | head -5 | sed "s/^/    $name /" >&2
  fi
  kill "$apid" 2>/dev/null || true
}

# Kamailio: users 1000..10999, password "secret", domain 127.0.0.1.
calls_peer_rate=0 calls_peer_failed=- calls_peer_cpu=- calls_peer_pdd=- calls_peer_rss="-"
if [ "${CALLS_PEER:-1}" != 0 ]; then
  bash "$shared/sipp/users.sh" 127.0.0.1 "$CALLS_USERS" secret >"$work/calls-peer-regs.csv"
  bash "$shared/sipp/calls.sh" 127.0.0.1 "$CALLS_USERS" secret >"$work/calls-peer-calls.csv"
  calls_pport=$((30000 + RANDOM % 10000))
  calls_peer=$(PEER_DIR=$work/peers "$shared/peers/start.sh" kamailio-proxy "$calls_pport" | tail -1); pids+=("$calls_peer")
  calls_side kamailio "127.0.0.1:$calls_pport" 127.0.0.1 "$work/calls-peer-regs.csv" "$work/calls-peer-calls.csv" "$calls_peer"
  calls_peer_rate=$RATE calls_peer_failed=$FAILED calls_peer_cpu=$CPU_US calls_peer_pdd=$PDD99
  calls_peer_rss="$RSS_IDLE before, $RSS_HELD with them ($RSS_PER a dialog)"
  kill "$calls_peer" 2>/dev/null || true
fi

# Dialtone: the same 10,000 people imported; each extension's SIP account and number read
# from the admin API, the tenant's digest MD5 first as Kamailio's. All callers are one
# SIPp at one address, some 500 INVITEs a second: the per-address INVITE rate (an
# office's NAT sends a few) is lifted, as Kamailio runs without a pike limit.
bash "$shared/peers/people.sh" "$CALLS_USERS" csv >"$work/calls-people.csv"
DIALTONE_SIP_INVITES_PER_SOURCE=0 dialtone_with "$work/calls-people.csv"
calls_cursor=""
: >"$work/calls-triples"
while :; do
  page=$(curl -sf -H "Authorization: Bearer $TOKEN" \
    "http://$HTTP/api/v1/tenants/default/extensions?limit=1000${calls_cursor:+&cursor=$calls_cursor}") || break
  jq -r '.items[] | select(.sip_username != null and .sip_password != null) | "\(.sip_username) \(.sip_password) \(.number)"' <<<"$page" >>"$work/calls-triples"
  calls_cursor=$(jq -r '.next_cursor // ""' <<<"$page")
  [ -n "$calls_cursor" ] || break
done
echo "    dialtone: $(wc -l <"$work/calls-triples") SIP accounts from the admin API" >&2
# The held dialogs are all one tenant's: its max_calls (default 1000) made room for them.
curl -sf -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"max_calls\":$((CALLS_HOLD + 2 * CALLS_CONC + 100))}" "http://$HTTP/api/v1/tenants/default" >/dev/null ||
  echo "    dialtone: max_calls not raised" >&2
calls_domain=${SIP%:*}
cut -d' ' -f1,2 "$work/calls-triples" | bash "$shared/sipp/users.sh" "$calls_domain" - >"$work/calls-regs.csv"
bash "$shared/sipp/calls.sh" "$calls_domain" - <"$work/calls-triples" >"$work/calls-calls.csv"
calls_side dialtone "$SIP" "$calls_domain" "$work/calls-regs.csv" "$work/calls-calls.csv" "$DIALTONE_PID"
report calls kamailio "$calls_peer_rate" "$RATE" \
  "closed loop, $CALLS_CONC calls in flight for ${CALLS_SECS}s; failed: kamailio $calls_peer_failed, dialtone $FAILED; server CPU per call: kamailio $calls_peer_cpu µs, dialtone $CPU_US µs; p99 post-dial delay: kamailio $calls_peer_pdd, dialtone $PDD99; RSS with $CALLS_HOLD dialogs up: kamailio $calls_peer_rss, dialtone $RSS_IDLE before, $RSS_HELD with them ($RSS_PER a dialog)"
kill "$DIALTONE_PID" 2>/dev/null || true
