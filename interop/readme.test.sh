# The README's tour, run as written: every shell block after a "<!-- tour -->" line, in
# order, in one bash with -euo pipefail, in an empty directory with ./bin/dialtone, on
# free ports given through the variables the tour's first block sets (PORT, TFTP_PORT, …).
readme=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/README.md
tour=$(mktemp -d "$WORK/tour.XXXXXX")
mkdir -p "$tour/bin" && ln -s "$DIALTONE_BIN" "$tour/bin/dialtone"

awk '/^<!-- tour -->$/ { want = 1; next }
     want && /^```/ { if (inside) { inside = 0; want = 0; print "" } else inside = 1; next }
     inside { print }' "$readme" > "$tour/tour.sh"
blocks=$(grep -c '^<!-- tour -->$' "$readme")
[ "$blocks" -ge 10 ] || fail "only $blocks tour blocks marked in README.md"
grep -q 'dialtone serve' "$tour/tour.sh" || fail "the extracted tour does not start serve"

# Free ports: random ones below the kernel's ephemeral range (32768 and up, where an
# outgoing connection's local port would make bind fail), that nothing answers on over
# TCP, all different (the tour fails loudly if one still collides).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case " $taken " in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then taken="$taken $p"; echo "$p"; return; fi
  done
}
taken=""
for v in PORT HTTPS_PORT SIP_PORT SIPS_PORT LDAP_PORT LDAPS_PORT TFTP_PORT METRICS_PORT; do
  p=$(free_port); taken="$taken $p"; printf -v "$v" %s "$p"
done
export PORT HTTPS_PORT SIP_PORT SIPS_PORT LDAP_PORT LDAPS_PORT TFTP_PORT METRICS_PORT
export DATA=./dialtone-tour

cd "$tour"
status=0
# Through a pipe: the tour's tftp writes to /dev/stdout, which would truncate a file.
bash -euo pipefail -c 'trap "kill \$(jobs -p) 2>/dev/null || true" EXIT; source ./tour.sh' 2>&1 | cat > tour.out || status=$?
cd - > /dev/null
if [ "$status" -ne 0 ]; then
  echo "the README tour failed (exit $status); its output:"; tail -40 "$tour/tour.out"
  echo "server log:"; tail -20 "$tour/dialtone.log" 2>/dev/null
  fail "README tour"
fi
out=$(tr -d "\000" < "$tour/tour.out")
expect_contains "$out" 'the CA is the one the first start made' # /ca.pem is the logged CA
expect_contains "$out" '<title>Dialtone</title>'        # the console, over HTTPS with that CA
expect_contains "$out" 'account.1.user_name'            # the phone's config, over HTTP and TFTP
expect_contains "$out" 'cn: Anna de Jong'               # the phonebook
expect_contains "$out" 'matches existing user Bram Jansen' # the second import skipped Bram
expect_contains "$out" 'backup written'
if grep -q 'level=ERROR' "$tour/dialtone.log"; then
  grep 'level=ERROR' "$tour/dialtone.log" | head; fail "the tour's server logged errors"
fi
echo "README tour: $blocks blocks ran"
