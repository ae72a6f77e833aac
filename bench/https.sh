# HTTPS config fetch: 1000 Yealink phones' {mac}.cfg over TLS against nginx and against
# Dialtone, with the same certificate and key (Dialtone's own {data}/tls/server.pem and
# server.key: ECDSA P-256, the server certificate then the private CA) and the same bytes
# (Dialtone's files, padded like the HTTP part's to ~4.3 KiB, fetched once over HTTPS and
# handed to nginx with ROOT=). nginx is as ../shared/bench/peers/start.sh makes it
# (worker_processes auto, shared session cache, nginx's default protocols). Modes:
#   keepalive    wrk -t1 -c64 with macs.lua, connections kept open: TLS records on HTTP
#   close        the same with `Connection: close` on every request (bench/headers.lua
#                adds wrk's -H headers to macs.lua's requests), so every fetch pays a
#                handshake. wrk resumes: it reuses each connection's SSL object
#                (SSL_shutdown, SSL_clear), which keeps the session, so every handshake
#                after a connection's first is a resumption, on both sides, each with the
#                protocol it picks: nginx 1.22 has no TLS 1.3 by default (1.23.4 turned it
#                on) and resumes TLS 1.2 without a key exchange; Dialtone picks TLS 1.3,
#                whose resumption keeps an X25519 exchange (RFC 8446 section 2.2,
#                psk_dhe_ke, forward secrecy: Go offers no other).
#   close-tls12  the same, with wrk held to TLS 1.2 (OPENSSL_CONF): the same protocol
#                and the same resumption (tickets) on both sides
#   close-tls13  the same against a second nginx with TLS 1.3 turned on (the peer script's
#                config plus `ssl_protocols TLSv1.2 TLSv1.3`, nginx's default since
#                1.23.4): the same protocol and the same resumption on both sides
#   full         `openssl s_time -new`, 4 clients, one file: a full handshake every fetch
#                (ECDSA signature and X25519), which is what a phone pays after a reboot;
#                Dialtone's also asks for a client certificate (device certificates);
#                s_time sends no User-Agent, so Dialtone's file has ~30 bytes more
# For each mode: both rates, the median of the rounds' ratios, each server's CPU per fetch
# (utime+stime from /proc/PID/stat before and after; nginx: master and workers), and for
# the handshake modes the handshake's CPU per fetch (that mode's minus keep-alive's, per
# side). Then the client's CPU per fetch against each side (wrk's or the s_time clients'
# utime+stime, from /usr/bin/time) and, for wrk, how busy its one thread was and the rate
# it alone would allow (one second of CPU over its CPU per fetch): at 100 % busy the
# client, not the server, sets the rate, and a ratio cannot pass the ratio of those
# limits, whatever the server does. Then what each server negotiated with OpenSSL's
# client (protocol, suite, group).
# Rounds as in http.sh (ROUNDS, default 3). Sourced by bench/run.sh.
ROUNDS=${ROUNDS:-3}
HTTPS_MODES=${HTTPS_MODES:-keepalive close close-tls12 close-tls13 full}
phones_csv 1000 >"$work/phones.csv"
dialtone_with "$work/phones.csv"
pad_yealink_to 4298 # the size of the peer script's own files, as in the HTTP part
ca=$DATA/tls/ca.pem
ua="Yealink SIP-T46U 108.86.0.20"

# Dialtone's own files, fetched once over HTTPS, for nginx to serve.
mkdir -p "$work/https-root"
for ((i = 0; i < 1000; i++)); do
  mac=$(printf '%012x' $((0x001565000000 + i)))
  printf 'url = "https://%s/p/%s/%s.cfg"\noutput = "%s/https-root/%s.cfg"\n' "$HTTPS" "$PROV_TOKEN" "$mac" "$work" "$mac"
done >"$work/https-fetch.curl"
curl -sf --cacert "$ca" -A "$ua" -K "$work/https-fetch.curl"
chmod -R a+rX "$work/https-root"
port=$((20000 + RANDOM % 10000))
peer_pid=$(ROOT=$work/https-root TLS_CERT=$DATA/tls/server.pem TLS_KEY=$DATA/tls/server.key \
  "$shared/peers/start.sh" nginx "$port" | tail -1); pids+=("$peer_pid")
# The second nginx, for close-tls13: the peer script's, restarted with TLS 1.3 on.
port13=$((port + 1))
peer13_pid=$(ROOT=$work/https-root TLS_CERT=$DATA/tls/server.pem TLS_KEY=$DATA/tls/server.key \
  "$shared/peers/start.sh" nginx "$port13" | tail -1)
kill "$peer13_pid"; while kill -0 "$peer13_pid" 2>/dev/null; do sleep 0.1; done
sed -i 's/ssl_session_cache/ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache/' "$PEER_DIR/nginx-$port13/nginx.conf"
nginx -c "$PEER_DIR/nginx-$port13/nginx.conf"; sleep 0.5
peer13_pid=$(cat "$PEER_DIR/nginx-$port13/pid"); pids+=("$peer13_pid")
# Both sides send the same bytes (the body; the headers differ by a few bytes).
for mac in 001565000000 0015650003e7; do
  cmp -s <(curl -sf --cacert "$ca" -A "$ua" "https://localhost:$port/$mac.cfg") \
    <(curl -sf --cacert "$ca" -A "$ua" "https://$HTTPS/p/$PROV_TOKEN/$mac.cfg") ||
    { echo "https: nginx and Dialtone send different $mac.cfg" >&2; exit 1; }
done
size=$(wc -c <"$work/https-root/001565000000.cfg")

# TLS 1.2 for the client alone (OpenSSL's system default section), for close-tls12.
cat >"$work/tls12.cnf" <<'CNF'
openssl_conf = conf
[conf]
ssl_conf = ssl
[ssl]
system_default = client
[client]
MaxProtocol = TLSv1.2
CNF

hz=$(getconf CLK_TCK)
secs=$(awk -v d="$DUR" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; if (d ~ /h$/) n *= 3600; print (n < 1 ? 1 : int(n)) }')
# https_run MODE URL PREFIX SERVER-PID → "rate µs-of-server-CPU-per-fetch
# µs-of-client-CPU-per-fetch client-busy-%" (busy: the client's CPU over the wall time;
# wrk's one load thread is at most 100 %, the four s_time clients at most 400 %)
https_run() {
  local mode=$1 url=$2 prefix=$3 pid=$4 before after n r tls= hdr=() i clients=() client
  [ "$mode" = close-tls12 ] && tls=$work/tls12.cnf
  [ "$mode" = keepalive ] || hdr=(-H 'Connection: close')
  before=$(tree_ticks "$pid")
  if [ "$mode" = full ]; then
    for i in 1 2 3 4; do
      /usr/bin/time -f '%e %U %S' -o "$work/time.$i" openssl s_time -connect "${url#https://}" -new -time "$secs" \
        -www "${prefix}001565000000.cfg" -CAfile "$ca" 2>&1 |
        awk '/connections in .* real seconds/ { print $1 }' >"$work/s_time.$i" &
      clients+=($!)
    done
    wait "${clients[@]}"
    cat "$work"/s_time.? >"$work/s_time.out"
    n=$(awk '{ s += $1 } END { print s + 0 }' "$work/s_time.out")
    r=$(awk -v n="$n" -v s="$secs" 'BEGIN { print n / s }')
    client=$(awk '{ e = ($1 > e ? $1 : e); c += $2 + $3 } END { print e, c }' "$work"/time.?)
  else
    # shellcheck disable=SC2086 # tls is one word or none
    MACS_LUA=$shared/wrk/macs.lua PREFIX=$prefix MACS=1000 UA=$ua ${tls:+env OPENSSL_CONF=$tls} \
      /usr/bin/time -f '%e %U %S' -o "$work/time.wrk" \
      wrk -t1 -c64 -d"$DUR" "${hdr[@]}" -s "$here/headers.lua" "$url" >"$work/wrk.out" 2>&1
    if grep -q 'Non-2xx' "$work/wrk.out"; then echo "wrk: $(grep Non-2xx "$work/wrk.out")" >&2; fi
    n=$(awk '/requests in/ { print $1 }' "$work/wrk.out")
    r=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")
    client=$(awk '{ print $1, $2 + $3 }' "$work/time.wrk")
  fi
  after=$(tree_ticks "$pid")
  awk -v r="$r" -v t=$((after - before)) -v hz="$hz" -v n="$n" -v client="$client" 'BEGIN {
    split(client, c, " ")
    printf "%s %.1f %.1f %.0f\n", r, (n > 0 ? t * 1e6 / hz / n : 0), (n > 0 ? c[2] * 1e6 / n : 0), (c[1] > 0 ? c[2] * 100 / c[1] : 0) }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

nginx_url=https://127.0.0.1:$port ours_url=https://$HTTPS
# Warm up: nginx's page cache; Dialtone's first fetches render and fill its cache.
https_run keepalive "$nginx_url" / "$peer_pid" >/dev/null
https_run keepalive "$ours_url" "/p/$PROV_TOKEN/" "$DIALTONE_PID" >/dev/null
echo "    https: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A rate cpu client busy
for mode in $HTTPS_MODES; do
  for ((round = 1; round <= ROUNDS; round++)); do
    if [ "$mode" = close-tls13 ]; then
      read -r pr pc pk pb < <(https_run "$mode" "https://127.0.0.1:$port13" / "$peer13_pid")
    else
      read -r pr pc pk pb < <(https_run "$mode" "$nginx_url" / "$peer_pid")
    fi
    read -r or oc ok ob < <(https_run "$mode" "$ours_url" "/p/$PROV_TOKEN/" "$DIALTONE_PID")
    printf '    %s round %d: nginx %.0f/s %s µs/fetch (client %s µs, %s %%)   dialtone %.0f/s %s µs/fetch (client %s µs, %s %%)   %s×\n' \
      "$mode" "$round" "$pr" "$pc" "$pk" "$pb" "$or" "$oc" "$ok" "$ob" "$(ratio "$or" "$pr")" >&2
    rate[$mode,p]+="$pr " rate[$mode,o]+="$or " rate[$mode,r]+="$(ratio "$or" "$pr") "
    cpu[$mode,p]+="$pc " cpu[$mode,o]+="$oc " client[$mode,p]+="$pk " client[$mode,o]+="$ok "
    busy[$mode,p]+="$pb " busy[$mode,o]+="$ob "
  done
  # shellcheck disable=SC2086 # the lists are space-separated on purpose
  for k in p o r; do rate[$mode,$k]=$(median ${rate[$mode,$k]}); done
  # shellcheck disable=SC2086
  for k in p o; do
    cpu[$mode,$k]=$(median ${cpu[$mode,$k]}) client[$mode,$k]=$(median ${client[$mode,$k]})
    busy[$mode,$k]=$(median ${busy[$mode,$k]})
  done
  note="CPU/fetch nginx ${cpu[$mode,p]} µs, dialtone ${cpu[$mode,o]} µs"
  if [ "$mode" != keepalive ] && [ -n "${cpu[keepalive,p]:-}" ]; then
    hs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
    note+="; handshake nginx $(hs "${cpu[$mode,p]}" "${cpu[keepalive,p]}") µs, dialtone $(hs "${cpu[$mode,o]}" "${cpu[keepalive,o]}") µs"
  fi
  report https nginx "${rate[$mode,p]}" "${rate[$mode,o]}" "$mode: $note" "${rate[$mode,r]}"
  # The client's side: its CPU per fetch against each server; wrk's limit is its one thread.
  note="client CPU/fetch against nginx ${client[$mode,p]} µs (busy ${busy[$mode,p]} %), against dialtone ${client[$mode,o]} µs (busy ${busy[$mode,o]} %)"
  if [ "$mode" != full ]; then
    note+=$(awk -v p="${client[$mode,p]}" -v o="${client[$mode,o]}" 'BEGIN {
      if (p > 0 && o > 0) printf "; wrk alone allows nginx %.0f/s, dialtone %.0f/s: %.2f×", 1e6 / p, 1e6 / o, p / o }')
  fi
  echo "      $note"
done
echo "      (medians of $ROUNDS rounds; $size B files on both sides; handshake = CPU per fetch minus keep-alive's;" \
  "load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
negotiated() { # ADDR [OPENSSL_CONF]: what OpenSSL's client and the server agreed on
  ${2:+env OPENSSL_CONF=$2} openssl s_client -connect "$1" -CAfile "$ca" </dev/null 2>&1 | awk '
    /^New, / { p = $2; c = $5; sub(/,$/, "", p) } /Server Temp Key/ { sub(/.*Key: /, ""); k = $0 }
    /Peer signature type/ { s = $4 } /Verify return code/ { v = $4 }
    END { printf "%s %s, key exchange %s, signature %s, verified %s", p, c, k, s, (v == "0" ? "yes" : "no") }'
}
for side in "nginx 127.0.0.1:$port" "nginx13 127.0.0.1:$port13" "dialtone $HTTPS"; do
  read -r name addr <<<"$side"
  printf '      %-8s %s\n      %-8s client at TLS 1.2: %s\n' "$name" "$(negotiated "$addr")" "" "$(negotiated "$addr" "$work/tls12.cnf")"
done
kill "$peer_pid" "$peer13_pid" 2>/dev/null || true
