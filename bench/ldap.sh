# LDAP phonebook search: ldapload (32 connections, the phone mix: name prefix lookups with
# size limit 50 and caller-ID lookups by number) against OpenLDAP slapd (mdb, indexed) and
# against Dialtone, both holding the same 10,000 people.
#
# Both servers run side by side and are loaded in turn, ROUNDS times (default 3); the
# ratios printed are the medians of the rounds' ratios. Each load prints its rate, the
# server's CPU per search (utime+stime from /proc/PID/stat before and after), ldapload's
# own CPU per search and the entries per search, so that both sides can be seen to return
# the same results. With two cores the load tool takes a large share of the machine, so
# the rate ratio is capped by the client; the ratio of the servers' CPU per search
# (slapd / Dialtone) is what the server controls. Sourced by bench/run.sh.
ROUNDS=${ROUNDS:-3}
bash "$shared/peers/people.sh" 10000 csv >"$work/people.csv"
port=$((40000 + RANDOM % 10000))
peer_pid=$("$shared/peers/start.sh" slapd "$port" 10000 | tail -1); pids+=("$peer_pid")
dialtone_with "$work/people.csv"
tenant=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/tenants/default")
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# cpu_ticks PID: user+system CPU time of a process so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# ldap_load URL BASE BINDDN PASSWORD OUT SERVER_PID: runs the load and leaves in OUT
# ldapload's line, then "cpu_us=… client_cpu_us=… entries_per_search=…".
ldap_load() {
  local t0 t1 n e; t0=$(cpu_ticks "$6")
  /usr/bin/time -f "client_cpu_s=%U %S" -o "$5.time" \
    "$work/ldapload" -addr "$1" -base "$2" -D "$3" -w "$4" -c 32 -d "$DUR" >"$5" 2>&1 || true
  t1=$(cpu_ticks "$6")
  n=$(sed -nE 's/^searches=([0-9]+).*/\1/p' "$5" | head -1)
  e=$(sed -nE 's/.* entries=([0-9]+).*/\1/p' "$5" | head -1)
  awk -v d=$((t1 - t0)) -v n="${n:-0}" -v e="${e:-0}" -v hz="$(getconf CLK_TCK)" \
    -F'[= ]' '/client_cpu_s/ { if (n > 0) printf "cpu_us=%.1f client_cpu_us=%.1f entries_per_search=%.2f\n", d / hz * 1e6 / n, ($2 + $3) * 1e6 / n, e / n }' "$5.time" >>"$5"
}
field() { sed -nE "s/.*(^| )$2=([0-9.]+).*/\\2/p" "$1" | tail -1; } # OUT NAME
rate_of() { sed -nE 's/.* rate=([0-9.]+)\/s.*/\1/p' "$1" | head -1; }
p99_of() { sed -nE 's/.* p99=([^ ]+).*/\1/p' "$1" | head -1; }
load1() { cut -d' ' -f1 /proc/loadavg; }
rates_p=(); rates_o=(); cpus_p=(); cpus_o=(); ccpus_p=(); ccpus_o=(); ents_p=(); ents_o=(); ratios=(); cratios=(); loads=()
for ((round = 1; round <= ROUNDS; round++)); do
  loads+=("$(load1)")
  ldap_load "ldap://127.0.0.1:$port" "dc=pbx,dc=test" "cn=admin,dc=pbx,dc=test" secret "$work/ldap-peer.out" "$peer_pid"
  ldap_load "ldap://$LDAP" "$(jq -r .ldap_base_dn <<<"$tenant")" "$(jq -r .ldap_bind_dn <<<"$tenant")" "$(jq -r .ldap_bind_password <<<"$tenant")" "$work/ldap-ours.out" "$DIALTONE_PID"
  p=$(rate_of "$work/ldap-peer.out"); o=$(rate_of "$work/ldap-ours.out")
  cp=$(field "$work/ldap-peer.out" cpu_us); co=$(field "$work/ldap-ours.out" cpu_us)
  rates_p+=("$p"); rates_o+=("$o"); cpus_p+=("$cp"); cpus_o+=("$co")
  ccpus_p+=("$(field "$work/ldap-peer.out" client_cpu_us)"); ccpus_o+=("$(field "$work/ldap-ours.out" client_cpu_us)")
  ents_p+=("$(field "$work/ldap-peer.out" entries_per_search)"); ents_o+=("$(field "$work/ldap-ours.out" entries_per_search)")
  ratios+=("$(ratio "$o" "$p")"); cratios+=("$(ratio "$cp" "$co")")
  printf '    round %d (load %s): slapd %.0f/s %s µs/search %s entries/search (p99 %s) | dialtone %.0f/s %s µs/search %s entries/search (p99 %s) | rate %s× CPU %s× | ldapload %s/%s µs/search\n' \
    "$round" "${loads[-1]}" "$p" "$cp" "${ents_p[-1]}" "$(p99_of "$work/ldap-peer.out")" "$o" "$co" "${ents_o[-1]}" "$(p99_of "$work/ldap-ours.out")" \
    "${ratios[-1]}" "${cratios[-1]}" "${ccpus_p[-1]}" "${ccpus_o[-1]}" >&2
done
pid=$DIALTONE_PID
rss=$(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
report ldap slapd "$(median "${rates_p[@]}")" "$(median "${rates_o[@]}")" \
  "(medians of $ROUNDS rounds, load average ${loads[*]}; server CPU per search slapd $(median "${cpus_p[@]}") µs, dialtone $(median "${cpus_o[@]}") µs, ratio $(median "${cratios[@]}")×; entries per search slapd $(median "${ents_p[@]}"), dialtone $(median "${ents_o[@]}"); ldapload's own CPU per search $(median "${ccpus_p[@]}")/$(median "${ccpus_o[@]}") µs on $(nproc) cores; RSS $rss with 10,000 people)" \
  "$(median "${ratios[@]}")"
