# HTTP config fetch: 1000 Yealink phones' {mac}.cfg, wrk -t1 -c64 with macs.lua, against
# nginx serving 1000 static files (as the peer script sets it up), and against Dialtone as
# shipped rendering them for 1000 phones assigned to 1000 users (cached renders, dropped
# on change events), padded to the same size.
#
# This machine's speed drifts during a run, more than the difference being measured, so
# the two servers are measured in turn, ROUNDS times, and the ratio printed is the median
# of the rounds' ratios (each round's pair measured back to back), with the server CPU per
# request of each side. Sourced by bench/run.sh.
ROUNDS=${ROUNDS:-3}
phones_csv 1000 >"$work/phones.csv"
port=$((20000 + RANDOM % 10000))
peer_pid=$("$shared/peers/start.sh" nginx "$port" 1000 | tail -1); pids+=("$peer_pid")
wrk_rate() { # URL PREFIX → requests/s (non-2xx are counted and reported)
  PREFIX=$2 MACS=1000 UA="Yealink SIP-T46U 108.86.0.20" wrk -t1 -c64 -d"$DUR" -s "$shared/wrk/macs.lua" "$1" >"$work/wrk.out" 2>&1
  if grep -q 'Non-2xx' "$work/wrk.out"; then echo "wrk: $(grep Non-2xx "$work/wrk.out")" >&2; fi
  awk '/Requests\/sec/ { print $2 }' "$work/wrk.out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; } # PID → user+system ticks
# wrk_measure URL PREFIX PID: sets RATE (requests/s) and CPU_US (server CPU per request, µs).
wrk_measure() {
  local t0 t1
  t0=$(proc_ticks "$3"); RATE=$(wrk_rate "$1" "$2"); t1=$(proc_ticks "$3")
  CPU_US=$(awk -v d=$((t1 - t0)) -v r="$RATE" -v s="${DUR%s}" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (r > 0) printf "%.1f", d / hz * 1e6 / (r * s); else print "?" }')
}
dialtone_with "$work/phones.csv"
pad_yealink_to "$(wc -c <"$(ls "$PEER_DIR"/nginx-"$port"/root/*.cfg | head -1)")"
# Warm up: nginx's page cache; Dialtone's first fetches render and fill its cache.
wrk_rate "http://127.0.0.1:$port" / >/dev/null; wrk_rate "http://$HTTP" "/p/$PROV_TOKEN/" >/dev/null
peers=(); ours=(); ratios=(); cpu=()
for ((round = 1; round <= ROUNDS; round++)); do
  p=$(wrk_rate "http://127.0.0.1:$port" /)
  wrk_measure "http://$HTTP" "/p/$PROV_TOKEN/" "$DIALTONE_PID"; o=$RATE oc=$CPU_US
  printf '    round %d: nginx %.0f/s   dialtone %.0f/s (%s µs CPU)   %s×\n' "$round" "$p" "$o" "$oc" "$(ratio "$o" "$p")" >&2
  peers+=("$p"); ours+=("$o"); ratios+=("$(ratio "$o" "$p")"); cpu+=("$oc")
done
report http nginx "$(median "${peers[@]}")" "$(median "${ours[@]}")" \
  "(medians of $ROUNDS rounds; file: Dialtone $PADDED_SIZE B, nginx $PEER_SIZE B; Dialtone's CPU per request $(median "${cpu[@]}") µs)" "$(median "${ratios[@]}")"
