# LDAP phonebook search: ldapload (32 connections, the phone mix: name prefix lookups with
# size limit 50 and caller-ID lookups by number) against OpenLDAP slapd (mdb, indexed) and
# against Dialtone, both holding the same 10,000 people. Sourced by bench/run.sh.
bash "$shared/peers/people.sh" 10000 csv >"$work/people.csv"
port=$((40000 + RANDOM % 10000))
peer_pid=$("$shared/peers/start.sh" slapd "$port" 10000 | tail -1); pids+=("$peer_pid")
# cpu_ticks PID: user+system CPU time of a process so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# ldap_load URL BASE BINDDN PASSWORD OUT SERVER_PID: runs the load, then appends the
# server's CPU time per search ("cpu_us=…"): with two cores the load tool itself takes
# most of the machine, so the rate ratio is capped by the client; the server's own cost
# per search is what the server controls.
ldap_load() {
  local t0; t0=$(cpu_ticks "$6")
  /usr/bin/time -f "client_cpu_s=%U %S" -o "$5.time" \
    "$work/ldapload" -addr "$1" -base "$2" -D "$3" -w "$4" -c 32 -d "$DUR" >"$5" 2>&1 || true
  local t1; t1=$(cpu_ticks "$6")
  local n; n=$(sed -nE 's/^searches=([0-9]+).*/\1/p' "$5" | head -1)
  awk -v d=$((t1 - t0)) -v n="${n:-0}" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (n > 0) printf "cpu_us=%.0f\n", d / hz * 1e6 / n }' >>"$5"
  awk -v n="${n:-0}" -F'[= ]' '/client_cpu_s/ { if (n > 0) printf "client_cpu_us=%.0f\n", ($2 + $3) * 1e6 / n }' "$5.time" >>"$5"
  sed 's/^/    /' "$5" >&2
}
cpu_of() { sed -nE 's/^cpu_us=([0-9]+).*/\1/p' "$1" | head -1; }
client_cpu_of() { sed -nE 's/^client_cpu_us=([0-9]+).*/\1/p' "$1" | head -1; }
rate_of() { sed -nE 's/.* rate=([0-9.]+)\/s.*/\1/p' "$1" | head -1; }
p99_of() { sed -nE 's/.* p99=([^ ]+).*/\1/p' "$1" | head -1; }
ldap_load "ldap://127.0.0.1:$port" "dc=pbx,dc=test" "cn=admin,dc=pbx,dc=test" secret "$work/ldap-peer.out" "$peer_pid"
peer=$(rate_of "$work/ldap-peer.out")
dialtone_with "$work/people.csv"
tenant=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/tenants/default")
ldap_load "ldap://$LDAP" "$(jq -r .ldap_base_dn <<<"$tenant")" "$(jq -r .ldap_bind_dn <<<"$tenant")" "$(jq -r .ldap_bind_password <<<"$tenant")" "$work/ldap-ours.out" "$DIALTONE_PID"
ours=$(rate_of "$work/ldap-ours.out")
pid=$DIALTONE_PID
rss=$(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
report ldap slapd "$peer" "$ours" "(p99 slapd $(p99_of "$work/ldap-peer.out"), dialtone $(p99_of "$work/ldap-ours.out"); server CPU per search slapd $(cpu_of "$work/ldap-peer.out") µs, dialtone $(cpu_of "$work/ldap-ours.out") µs; ldapload's own CPU per search $(client_cpu_of "$work/ldap-peer.out")/$(client_cpu_of "$work/ldap-ours.out") µs on $(nproc) cores; RSS $rss with 10,000 people)"
