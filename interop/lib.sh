# Helpers for the interop tests: start Dialtone on free loopback ports, call its API.
WORK=$(mktemp -d /tmp/dialtone-interop.XXXXXX)
export WORK
ADMIN_PASSWORD="interop-admin-password"

start_dialtone() {
  "$DIALTONE_BIN" serve --data "$WORK/data" --http 127.0.0.1:0 --https 127.0.0.1:0 --tftp 127.0.0.1:0 \
    --sip 127.0.0.1:0 --sips 127.0.0.1:0 --ldap 127.0.0.1:0 --ldaps 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --public-host 127.0.0.1 \
    --admin-password "$ADMIN_PASSWORD" >"$WORK/stdout" 2>"$WORK/server.log" &
  DIALTONE_PID=$!
  for _ in $(seq 100); do
    if grep -q 'svc=ldap' "$WORK/server.log" 2>/dev/null && curl -sf "http://$(addr http)/healthz" >/dev/null 2>&1; then
      break
    fi
    sleep 0.1
  done
  HTTP=$(addr http); HTTPS=$(addr https); TFTP=$(addr tftp); SIP=$(addr sip); SIPS=$(addr sips); LDAP=$(addr ldap); LDAPS=$(addr ldaps)
  METRICS=$(addr metrics)
  CA_PEM=$WORK/data/tls/ca.pem # the private CA every TLS listener's certificate chains to
  export HTTP HTTPS TFTP SIP SIPS LDAP LDAPS METRICS CA_PEM
  TOKEN=$(curl -sf "http://$HTTP/api/v1/auth/login" -d "{\"email\":\"admin@localhost\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token)
  export TOKEN
  [ -n "$TOKEN" ] && [ "$TOKEN" != null ] || { echo "login failed"; cat "$WORK/server.log"; return 1; }
}

stop_dialtone() {
  kill "$DIALTONE_PID" 2>/dev/null; wait "$DIALTONE_PID" 2>/dev/null
  if grep -E 'level=(ERROR)' "$WORK/server.log" >/dev/null; then
    echo "server logged errors:"; grep 'level=ERROR' "$WORK/server.log" | head
  fi
  rm -rf "$WORK"
}

# addr NAME: the address a listener bound, from its "listening" log line.
addr() { grep "msg=listening svc=$1 " "$WORK/server.log" | head -1 | sed -E 's/.* addr=([^ ]+).*/\1/'; }
port() { echo "${1##*:}"; }

# api METHOD PATH [JSON]: calls the admin API as the System Owner; prints the body, fails on >= 400.
api() {
  local method=$1 path=$2 body=${3:-}
  local args=(-s -o "$WORK/api.out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $TOKEN")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  local code; code=$(curl "${args[@]}" "http://$HTTP$path")
  cat "$WORK/api.out"
  if [ "$code" -ge 400 ]; then echo "api $method $path -> $code" >&2; return 1; fi
}

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_contains() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $(head -c 600 <<<"$1")"; }
