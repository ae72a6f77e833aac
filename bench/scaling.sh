# The single node's ceiling: for each size in SCALE_SIZES (default "1000 10000 100000")
# that many people, each with an extension and a Yealink phone, imported into one tenant;
# then the store size, the cold start, the memory, and the p99 latency of a config fetch,
# a REGISTER and a phonebook search. Not part of the default `make bench` (the 100,000 row
# takes minutes); run it as
#   bench/run.sh ./bin/dialtone scaling          (SCALE_SIZES="1000 10000" for a quick one)
# The table it prints goes to docs/scaling.md. Sourced by bench/run.sh.
#
# - import: the people of ../shared/bench/peers/people.sh (the LDAP bench's names, so the
#   searches find what they find there) plus a MAC and model each, imported offline with
#   `dialtone import-users` in files of SCALE_CHUNK rows: one import is one store
#   transaction, and Badger bounds a transaction (about 15,000 rows with phones).
# - cold start: from starting `dialtone serve` to /healthz answering, which happens once
#   every listener is bound and the LDAP directory and the registrar's bindings are
#   loaded (serve wires everything before it serves). Measured twice: on the freshly
#   imported store, and again after the load, when the store also holds every binding.
# - latency: closed loop at saturation (the load tool shares the two cores), so a p99 is
#   mostly queueing behind the other requests in flight; "first" is each phone's first
#   config fetch (a render) and first REGISTER (a new binding, credentials read from the
#   store), "warm" the repeat that a running system mostly serves.
#   config fetch: scaleload fetch (every phone once), then wrk -c64 --latency cycling
#   through all phones; REGISTER: scaleload register (REGISTER, 401, REGISTER with
#   digest, 200; every phone once, then -c32 cycling); search: ldapload -c32.
# - RSS: after the start, and after every phone fetched its config and registered and
#   the searches ran. Store: `du` of the data directory (Badger preallocates its value
#   log sparsely, so the apparent size says nothing).
SCALE_SIZES=${SCALE_SIZES:-1000 10000 100000}
SCALE_CHUNK=${SCALE_CHUNK:-10000}
( cd "$here/.." && go build -o "$work/scaleload" ./bench/scaleload )

# scale_rss PID: "total (anon)" MB: the anonymous part is the Go heap and stacks; the rest
# is mapped files, mostly Badger's memtable and tables, which the kernel may take back.
scale_rss() { awk '/VmRSS/ { t = $2 } /RssAnon/ { a = $2 } END { printf "%.0f (%.0f)", t / 1024, a / 1024 }' "/proc/$1/status" 2>/dev/null; }
scale_du() { du -sk "$1" | awk '{ printf "%.0f", $1 / 1024 }'; }
# scale_heap LOG: the live Go heap (MB) the last collection found (GODEBUG=gctrace=1's
# "a->b->c MB": c is what survived); RSS also counts garbage not yet collected or returned.
scale_heap() { grep -E '^gc [0-9]+ ' "$1" | tail -1 | sed -E 's/.* ([0-9]+)->([0-9]+)->([0-9]+) MB.*/\3/'; }
scale_load() { cut -d' ' -f1 /proc/loadavg; }
scale_now() { date +%s%N; }
scale_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
field() { sed -nE "s/.*$1=([^ ]+).*/\1/p" "$2" | head -1; } # field NAME FILE

# scale_serve DATA: starts serve on DATA and waits for /healthz; sets DIALTONE_PID, the
# addresses and COLD (seconds from start to /healthz answering).
scale_serve() {
  local data=$1 t0 i
  : >"$data.log"
  t0=$(scale_now)
  GODEBUG=gctrace=1 "$bin" serve --data "$data" --http 127.0.0.1:0 --https 127.0.0.1:0 --tftp 127.0.0.1:0 \
    --sip 127.0.0.1:0 --sips 127.0.0.1:0 --ldap 127.0.0.1:0 --ldaps 127.0.0.1:0 --public-host 127.0.0.1 --log-level info 2>>"$data.log" >/dev/null &
  DIALTONE_PID=$!; pids+=("$DIALTONE_PID")
  addr() { grep "msg=listening svc=$1 " "$data.log" | tail -1 | sed -E 's/.* addr=([^ ]+).*/\1/'; }
  for i in $(seq 6000); do grep -q 'svc=ldap' "$data.log" && break; sleep 0.01; done
  HTTP=$(addr http); SIP=$(addr sip); LDAP=$(addr ldap)
  for i in $(seq 60000); do
    curl -sf -o /dev/null --max-time 5 "http://$HTTP/healthz" && break
    kill -0 "$DIALTONE_PID" 2>/dev/null || { echo "serve died: $(tail -3 "$data.log")" >&2; return 1; }
    sleep 0.01
  done
  COLD=$(scale_s "$t0" "$(scale_now)")
}

scale_stop() { kill -TERM "$DIALTONE_PID" 2>/dev/null; wait "$DIALTONE_PID" 2>/dev/null || true; }

scale_rows=()
for n in $SCALE_SIZES; do
  load0=$(scale_load)
  dir=$work/scale-$n; mkdir -p "$dir/csv"; data=$dir/data
  bash "$shared/peers/people.sh" "$n" csv |
    awk -F, 'NR == 1 { print $0 ",MAC,Model"; next } { printf "%s,001565%06x,T46U\n", $0, NR - 2 }' >"$dir/all.csv"
  tail -n +2 "$dir/all.csv" | split -l "$SCALE_CHUNK" -d -a 3 - "$dir/csv/rows-"
  t0=$(scale_now)
  for f in "$dir"/csv/rows-*; do
    { head -1 "$dir/all.csv"; cat "$f"; } >"$f.csv"
    "$bin" import-users "$f.csv" --tenant default --data "$data" >/dev/null 2>"$f.err" ||
      { echo "    scaling $n: import of $f failed: $(tail -1 "$f.err")" >&2; exit 1; }
  done
  import_s=$(scale_s "$t0" "$(scale_now)")
  store_imported=$(scale_du "$data")

  scale_serve "$data"; cold_fresh=$COLD; rss_start=$(scale_rss "$DIALTONE_PID"); heap_start=$(scale_heap "$data.log")
  TOKEN=$(curl -sf "http://$HTTP/api/v1/auth/login" -d "{\"email\":\"admin@localhost\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token)
  tenant=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/tenants/default")
  PROV_TOKEN=$(jq -r .provisioning_token <<<"$tenant")
  # SIP accounts from the admin API, as a provisioned phone gets them.
  cursor=""; : >"$dir/pairs"
  while :; do
    page=$(curl -sf -H "Authorization: Bearer $TOKEN" \
      "http://$HTTP/api/v1/tenants/default/extensions?limit=1000${cursor:+&cursor=$cursor}") || break
    jq -r '.items[] | select(.sip_username != null and .sip_password != null) | "\(.sip_username) \(.sip_password)"' <<<"$page" >>"$dir/pairs"
    cursor=$(jq -r '.next_cursor // ""' <<<"$page")
    [ -n "$cursor" ] || break
  done
  accounts=$(wc -l <"$dir/pairs")

  # Every phone once: its config rendered, its first registration.
  "$work/scaleload" fetch -url "http://$HTTP/p/$PROV_TOKEN/" -macs "$n" -c 32 >"$dir/fetch-first.out" 2>&1 || true
  echo "    scaling $n: RSS (anon) $(scale_rss "$DIALTONE_PID") MB, live heap $(scale_heap "$data.log") MB after every config fetched once" >&2
  "$work/scaleload" register -sip "$SIP" -domain 127.0.0.1 -users "$dir/pairs" -c 32 -once >"$dir/reg-first.out" 2>&1 || true
  # The warm repeat, DUR each, one after the other.
  PREFIX="/p/$PROV_TOKEN/" MACS=$n UA="Yealink SIP-T46U 108.86.0.20" \
    wrk -t1 -c64 -d"$DUR" --latency -s "$shared/wrk/macs.lua" "http://$HTTP" >"$dir/wrk.out" 2>&1 || true
  echo "    scaling $n: RSS (anon) $(scale_rss "$DIALTONE_PID") MB, live heap $(scale_heap "$data.log") MB after the first fetches, first registrations and wrk" >&2
  "$work/scaleload" register -sip "$SIP" -domain 127.0.0.1 -users "$dir/pairs" -c 32 -d "$DUR" >"$dir/reg-warm.out" 2>&1 || true
  "$work/ldapload" -addr "ldap://$LDAP" -base "$(jq -r .ldap_base_dn <<<"$tenant")" -D "$(jq -r .ldap_bind_dn <<<"$tenant")" \
    -w "$(jq -r .ldap_bind_password <<<"$tenant")" -c 32 -d "$DUR" -n "$n" >"$dir/ldap.out" 2>&1 || true
  echo "    scaling $n: RSS (anon) $(scale_rss "$DIALTONE_PID") MB, live heap $(scale_heap "$data.log") MB after the warm registrations and the searches" >&2
  rss_loaded=$(scale_rss "$DIALTONE_PID"); heap_loaded=$(scale_heap "$data.log")
  load1=$(scale_load)
  scale_stop # drains the registrar's write-behind: every binding is in the store
  store_loaded=$(scale_du "$data")
  scale_serve "$data"; cold_bound=$COLD; rss_restart=$(scale_rss "$DIALTONE_PID"); heap_restart=$(scale_heap "$data.log")
  scale_stop

  for f in fetch-first reg-first reg-warm ldap; do sed "s/^/    scaling $n $f: /" "$dir/$f.out" >&2; done
  wrk_p99=$(awk '$1 == "50%" { p50 = $2 } $1 == "99%" { print p50 " / " $2 }' "$dir/wrk.out"); wrk_rate=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$dir/wrk.out")
  grep -q 'Non-2xx' "$dir/wrk.out" && echo "    scaling $n wrk: $(grep Non-2xx "$dir/wrk.out")" >&2
  reg_failed=$(( $(field failed "$dir/reg-first.out" | grep . || echo 0) + $(field failed "$dir/reg-warm.out" | grep . || echo 0) ))
  per_search=$(awk -v e="$(field entries "$dir/ldap.out")" -v s="$(field searches "$dir/ldap.out")" 'BEGIN { if (s > 0) printf "%.0f", e / s; else print "?" }')
  scale_rows+=("$(printf '| %s | %s | %s s | %s / %s MB | %s / %s s | %s / %s / %s | %s / %s / %s | %s, %s (%s/s) | %s, %s (%s/s, %s failed) | %s (%s/s, %s entries each) | %s–%s |' \
    "$n" "$accounts" "$import_s" "$store_imported" "$store_loaded" "$cold_fresh" "$cold_bound" \
    "$rss_start" "$rss_loaded" "$rss_restart" "${heap_start:-?}" "${heap_loaded:-?}" "${heap_restart:-?}" \
    "$(field p99 "$dir/fetch-first.out")" "$wrk_p99" "$wrk_rate" \
    "$(field p99 "$dir/reg-first.out")" "$(field p50 "$dir/reg-warm.out") / $(field p99 "$dir/reg-warm.out")" "$(field rate "$dir/reg-warm.out" | tr -d /s)" \
    "$reg_failed" "$(field p50 "$dir/ldap.out") / $(field p99 "$dir/ldap.out")" "$(field rate "$dir/ldap.out" | tr -d /s)" "$per_search" \
    "$load0" "$load1")")
  rm -rf "$data" "$dir/csv"
done

echo "scaling on $(nproc) cores, $(date -u +%Y-%m-%d), DUR=$DUR per measured run"
echo "| people = phones | SIP accounts | import | store: imported / after load | cold start: fresh / with bindings | RSS MB (anon): started / after load / restarted | live heap MB: started / after load / restarted | config fetch p99 first, warm p50 / p99 (rate) | REGISTER p99 first, warm p50 / p99 (rate) | LDAP search p50 / p99 (rate) | load avg |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${scale_rows[@]}"
