# HTTP config fetch: 1000 Yealink phones' {mac}.cfg, wrk -t1 -c64 with macs.lua, against
# nginx serving 1000 static files (one worker, as the peer script sets it up), and against
# Dialtone as shipped rendering them for 1000 phones assigned to 1000 users (cached
# renders, dropped on change events), padded to the same size.
#
# This machine's speed drifts during a run, more than the difference being measured, so
# the two servers are measured in turn, ROUNDS times, and the ratio printed is the median
# of the rounds' ratios (each round's pair measured back to back). Sourced by bench/run.sh.
#
# The same rounds measure Dialtone built from this tree with the norawtcp build tag (the
# net package's reads and writes instead of internal/rawtcp's raw ones) beside it, and
# print both rates and the server CPU per request: internal/rawtcp stays only while it
# pays its way (its doc.go).
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
# The comparison binary: this tree without internal/rawtcp's raw system calls.
( cd "$here/.." && go build -trimpath -tags norawtcp -o "$work/dialtone-norawtcp" ./cmd/dialtone )
dialtone_with "$work/phones.csv"
pad_yealink_to "$(wc -c <"$(ls "$PEER_DIR"/nginx-"$port"/root/*.cfg | head -1)")"
raw_http=$HTTP raw_prov=$PROV_TOKEN raw_pid=$DIALTONE_PID
shipped_bin=$bin; bin=$work/dialtone-norawtcp
dialtone_with "$work/phones.csv"; bin=$shipped_bin
pad_yealink_to "$PEER_SIZE"
plain_http=$HTTP plain_prov=$PROV_TOKEN plain_pid=$DIALTONE_PID
# Warm up: nginx's page cache; Dialtone's first fetches render and fill its cache.
wrk_rate "http://127.0.0.1:$port" / >/dev/null
wrk_rate "http://$raw_http" "/p/$raw_prov/" >/dev/null; wrk_rate "http://$plain_http" "/p/$plain_prov/" >/dev/null
peers=(); ours=(); ratios=(); plains=(); gains=(); cpu_raw=(); cpu_plain=()
for ((round = 1; round <= ROUNDS; round++)); do
  p=$(wrk_rate "http://127.0.0.1:$port" /)
  # Alternate which Dialtone goes first, so that a drift favours neither.
  if ((round % 2)); then
    wrk_measure "http://$raw_http" "/p/$raw_prov/" "$raw_pid"; o=$RATE oc=$CPU_US
    wrk_measure "http://$plain_http" "/p/$plain_prov/" "$plain_pid"; n=$RATE nc=$CPU_US
  else
    wrk_measure "http://$plain_http" "/p/$plain_prov/" "$plain_pid"; n=$RATE nc=$CPU_US
    wrk_measure "http://$raw_http" "/p/$raw_prov/" "$raw_pid"; o=$RATE oc=$CPU_US
  fi
  printf '    round %d: nginx %.0f/s   dialtone %.0f/s (%s µs CPU)   %s×   norawtcp %.0f/s (%s µs CPU)\n' \
    "$round" "$p" "$o" "$oc" "$(ratio "$o" "$p")" "$n" "$nc" >&2
  peers+=("$p"); ours+=("$o"); ratios+=("$(ratio "$o" "$p")")
  plains+=("$n"); gains+=("$(ratio "$o" "$n")"); cpu_raw+=("$oc"); cpu_plain+=("$nc")
done
report http nginx "$(median "${peers[@]}")" "$(median "${ours[@]}")" \
  "(medians of $ROUNDS rounds; file: Dialtone $PADDED_SIZE B, nginx $PEER_SIZE B)" "$(median "${ratios[@]}")"
printf '%-5s rawtcp: with %.0f/s %s µs CPU/request, without (norawtcp) %.0f/s %s µs CPU/request; rate with/without %s× (medians of %d rounds; per round: %s)\n' \
  http "$(median "${ours[@]}")" "$(median "${cpu_raw[@]}")" "$(median "${plains[@]}")" "$(median "${cpu_plain[@]}")" \
  "$(median "${gains[@]}")" "$ROUNDS" "${gains[*]}"
kill "$raw_pid" "$plain_pid" 2>/dev/null || true
