# SIP REGISTER with digest auth: SIPp's register-auth.xml (REGISTER, 401, REGISTER with
# credentials, 200) at the same offered rate against Kamailio (registrar + auth in memory)
# and against Dialtone, both holding 10,000 extensions. Sourced by bench/run.sh.
#   SIP_RATES (default "10000 6000 3000" calls/s), SIP_CALLS (default 100000 per side)
#
# The offered rate is the first of SIP_RATES at which Kamailio fails no registration;
# Dialtone then gets the same rate. Why not always 10,000/s: SIPp, the server and
# whatever else runs here share two cores, and SIPp alone needs about one of them at
# that rate. On a quiet machine Kamailio carries 10,000/s (about 9,900/s achieved, 0
# failed); with other work running it did not: 2,708/s achieved, 384,000
# retransmissions and 7 failed registrations (2026-11-23). A load the yardstick itself
# cannot carry judges nothing, so the rate steps down until Kamailio is clean.
#
# Both servers are measured in their steady state, phones refreshing registrations:
# before the measured run every extension registers once (at 2,000/s, from the same
# SIPp port, so the measured run refreshes those bindings), which leaves out a cold
# start's one-off work on either side (Dialtone: credentials read from the store into
# its cache, first bindings written, heap growth).
#
# SIPp gets a 4 MiB socket buffer (-buff_size): with its default of 64 KiB it dropped
# thousands of answers a run at 10,000/s, from either server, and each drop came back
# as a retransmission: that measured SIPp. The server CPU time per registration is
# printed too: it is what the server controls when the load tool takes most of the
# machine.
SIP_RATES=${SIP_RATES:-10000 6000 3000}
SIP_CALLS=${SIP_CALLS:-100000}
SIP_USERS=10000
SIP_WARMUP_RATE=2000

# sip_run NAME TARGET USERS SERVER_PID LPORT RATE CALLS: one SIPp run; sets RATE
# (successful registrations / SIPp's total time), FAILED, RETRANS and CPU_US (server CPU
# per successful registration, µs).
sip_run() {
  local name=$1 target=$2 users=$3 spid=$4 lport=$5 rate=$6 calls=$7
  local t0 t1
  t0=$(tree_ticks "$spid")
  timeout 300 sipp -sf "$shared/sipp/register-auth.xml" -inf "$users" -r "$rate" -m "$calls" \
    -i 127.0.0.1 -p "$lport" -nostdin -trace_screen -screen_file "$work/sipp-$name.screen" \
    -trace_err -error_file "$work/sipp-$name.err" -max_recv_loops 10000 -buff_size 4194304 \
    "$target" >"$work/sipp-$name.out" 2>&1 || true
  t1=$(tree_ticks "$spid")
  local s="$work/sipp-$name.screen" ok t
  ok=$(awk -F'|' '/Successful call/ { gsub(/ /, "", $3); v = $3 } END { print v + 0 }' "$s" 2>/dev/null)
  FAILED=$(awk -F'|' '/Failed call/ { gsub(/ /, "", $3); v = $3 } END { print v + 0 }' "$s" 2>/dev/null)
  # A call SIPp never finished (timeout 300 or a crash) counts as failed too.
  local unfinished=$((calls - ok - FAILED))
  if [ "$unfinished" -gt 0 ]; then FAILED=$((FAILED + unfinished)); fi
  t=$(awk '/Total-time/ { getline; for (i = 1; i <= NF; i++) if ($(i + 1) == "s") { print $i; exit } }' "$s" 2>/dev/null)
  RETRANS=$(awk '/REGISTER ---------->/ { r += $4 } END { print r + 0 }' "$s" 2>/dev/null)
  if [ "$FAILED" -gt 0 ] && [ -s "$work/sipp-$name.err" ]; then
    # What went wrong, by kind (Call-IDs dropped); "Dead call" lines are answers that
    # arrived after their call had ended (a retransmitted 200), not failures.
    awk -v q="'" '/Aborting call/ { sub(/.*Aborting call/, "Aborting call"); sub(" for Call-I[dD] " q "[^" q "]*" q, "");
           sub("received " q, "received "); sub(/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]\t.*/, ""); print }' "$work/sipp-$name.err" |
      sort | uniq -c | sort -rn | awk -v n="$name" 'NR <= 5 { print "    " n " " $0 }' >&2
  fi
  RATE=$(awk -v ok="$ok" -v t="$t" 'BEGIN { if (t > 0) printf "%.0f", ok / t; else print 0 }')
  CPU_US=$(awk -v d=$((t1 - t0)) -v n="$ok" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0f", d / hz * 1e6 / n; else print "?" }')
}

# sip_bench NAME TARGET USERS SERVER_PID RATE: the warm-up, then the measured run.
sip_bench() {
  local lport
  lport=$(free_udp_port)
  sip_run "$1-warmup" "$2" "$3" "$4" "$lport" "$SIP_WARMUP_RATE" "$SIP_USERS"
  if [ "$FAILED" -gt 0 ]; then echo "    $1: $FAILED of $SIP_USERS failed in the warm-up" >&2; fi
  sip_run "$1" "$2" "$3" "$4" "$lport" "$5" "$SIP_CALLS"
  awk '/REGISTER ---------->|<----------/' "$work/sipp-$1.screen" 2>/dev/null | sed "s/^ */    $1 /" >&2
}

# sip_bindings: live bindings of tenant default, following the API's cursor.
sip_bindings() {
  local cursor="" page n=0 k
  while :; do
    page=$(curl -sf -H "Authorization: Bearer $TOKEN" \
      "http://$HTTP/api/v1/tenants/default/registrations?limit=1000${cursor:+&cursor=$cursor}") || { echo "?"; return; }
    k=$(jq -r '.items | length' <<<"$page") || { echo "?"; return; }
    n=$((n + k))
    cursor=$(jq -r '.next_cursor // ""' <<<"$page")
    [ -n "$cursor" ] && [ "$k" -gt 0 ] || break
  done
  echo "$n"
}

# Kamailio: any user 1000..10999, password "secret"; a fresh Kamailio for each rate tried.
bash "$shared/sipp/users.sh" 127.0.0.1 "$SIP_USERS" secret >"$work/sip-peer-users.csv"
for SIP_RATE in $SIP_RATES; do
  sip_port=$((30000 + RANDOM % 10000))
  sip_peer=$("$shared/peers/start.sh" kamailio "$sip_port" | tail -1); pids+=("$sip_peer")
  sip_bench kamailio "127.0.0.1:$sip_port" "$work/sip-peer-users.csv" "$sip_peer" "$SIP_RATE"
  kill "$sip_peer" 2>/dev/null || true
  [ "$FAILED" -ne 0 ] || break
  echo "    kamailio failed $FAILED of $SIP_CALLS at $SIP_RATE/s: the machine cannot carry this rate; next rate" >&2
done
sip_peer_rate=$RATE sip_peer_failed=$FAILED sip_peer_retrans=$RETRANS sip_peer_cpu=$CPU_US

# Dialtone: the same 10,000 people imported; their SIP credentials read from the admin API.
bash "$shared/peers/people.sh" "$SIP_USERS" csv >"$work/sip-people.csv"
dialtone_with "$work/sip-people.csv"
sip_cursor=""
: >"$work/sip-pairs"
while :; do
  page=$(curl -sf -H "Authorization: Bearer $TOKEN" \
    "http://$HTTP/api/v1/tenants/default/extensions?limit=1000${sip_cursor:+&cursor=$sip_cursor}") || break
  jq -r '.items[] | select(.sip_username != null and .sip_password != null) | "\(.sip_username) \(.sip_password)"' <<<"$page" >>"$work/sip-pairs"
  sip_cursor=$(jq -r '.next_cursor // ""' <<<"$page")
  [ -n "$sip_cursor" ] || break
done
echo "    dialtone: $(wc -l <"$work/sip-pairs") SIP accounts from the admin API" >&2
bash "$shared/sipp/users.sh" 127.0.0.1 - <"$work/sip-pairs" >"$work/sip-users.csv"
sip_bench dialtone "$SIP" "$work/sip-users.csv" "$DIALTONE_PID" "$SIP_RATE"
sip_ours=$RATE sip_ours_failed=$FAILED sip_ours_retrans=$RETRANS sip_ours_cpu=$CPU_US
sip_listed=$(sip_bindings)
sip_rss=$(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$DIALTONE_PID/status" 2>/dev/null)
report sip kamailio "$sip_peer_rate" "$sip_ours" \
  "at $SIP_RATE/s offered, $SIP_CALLS registrations each after a warm-up; failed: kamailio $sip_peer_failed, dialtone $sip_ours_failed; retransmissions: kamailio $sip_peer_retrans, dialtone $sip_ours_retrans; server CPU per registration: kamailio $sip_peer_cpu µs, dialtone $sip_ours_cpu µs; dialtone RSS $sip_rss with $sip_listed bindings listed by the API (expected $SIP_USERS)"
kill "$DIALTONE_PID" 2>/dev/null || true
