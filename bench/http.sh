# HTTP config fetch: 1000 Yealink phones' {mac}.cfg, wrk -t1 -c64 with macs.lua, against
# nginx serving 1000 static files of the same size, and against Dialtone rendering them
# for 1000 phones assigned to 1000 users (cached renders, dropped on change events).
# Sourced by bench/run.sh.
phones_csv 1000 >"$work/phones.csv"
port=$((20000 + RANDOM % 10000))
peer_pid=$("$shared/peers/start.sh" nginx "$port" 1000 | tail -1); pids+=("$peer_pid")
wrk_rate() { # URL PREFIX → requests/s (non-2xx are counted and reported)
  PREFIX=$2 MACS=1000 UA="Yealink SIP-T46U 108.86.0.20" wrk -t1 -c64 -d"$DUR" -s "$shared/wrk/macs.lua" "$1" >"$work/wrk.out" 2>&1
  if grep -q 'Non-2xx' "$work/wrk.out"; then echo "wrk: $(grep Non-2xx "$work/wrk.out")" >&2; fi
  awk '/Requests\/sec/ { print $2 }' "$work/wrk.out"
}
wrk_rate "http://127.0.0.1:$port" / >/dev/null # warm up
peer=$(wrk_rate "http://127.0.0.1:$port" /)
dialtone_with "$work/phones.csv"
size=$(curl -sf -A "Yealink SIP-T46U 108.86.0.20" "http://$HTTP/p/$PROV_TOKEN/001565000001.cfg" | wc -c)
wrk_rate "http://$HTTP" "/p/$PROV_TOKEN/" >/dev/null # first fetches render and fill the cache
ours=$(wrk_rate "http://$HTTP" "/p/$PROV_TOKEN/")
report http nginx "$peer" "$ours" "(Dialtone file ${size} bytes, nginx ~4.3 KiB)"
