# Flex login: time from the login INVITE to the check-sync NOTIFY, over FLEX_LOGINS (1000)
# logins by as many flex phones. bench/flexlogin plays each phone on its own UDP socket on
# loopback against the built binary: guest REGISTER with digest, then INVITE
# *55*{ext}*{pin}, 407, INVITE with credentials (the clock starts as it is written), 603,
# and the NOTIFY (the clock stops as the phone reads it; answered 200). Receipt at the
# phone upper-bounds the NOTIFY leaving the server. No peer does flex login, so there is
# no ratio: the figure is Dialtone's alone. Sourced by bench/run.sh.
#   FLEX_LOGINS (default 1000), FLEX_CONC (default 32 logins in flight)
FLEX_LOGINS=${FLEX_LOGINS:-1000}
FLEX_CONC=${FLEX_CONC:-32}
( cd "$here/.." && go build -o "$work/flexlogin" ./bench/flexlogin )
phones_csv 0 >"$work/flex-none.csv"
dialtone_with "$work/flex-none.csv"
timeout 120 "$work/flexlogin" -http "$HTTP" -sip "$SIP" -token "$TOKEN" -n "$FLEX_LOGINS" -c "$FLEX_CONC" ||
  echo "flex  bench failed (see above)" >&2
kill "$DIALTONE_PID" 2>/dev/null || true
