# TFTP config fetch: tftpload (32 clients, blksize 1428, a different MAC each time) against
# tftpd-hpa serving 1000 static files, and against Dialtone rendering for 1000 phones,
# padded to the same size.
# Sourced by bench/run.sh.
phones_csv 1000 >"$work/phones.csv"
port=$((30000 + RANDOM % 10000))
peer_pid=$("$shared/peers/start.sh" tftpd "$port" 1000 | tail -1); pids+=("$peer_pid")
tftp_rate() { # ADDR FILE-PATTERN → transfers/s
  "$work/tftpload" -addr "$1" -file "$2" -c 32 -d "$DUR" >"$work/tftp.out" 2>&1 || true
  sed 's/^/    /' "$work/tftp.out" >&2
  sed -nE 's/.* rate=([0-9.]+)\/s.*/\1/p' "$work/tftp.out" | head -1
}
peer=$(tftp_rate "127.0.0.1:$port" "%012x.cfg")
dialtone_with "$work/phones.csv"
pad_yealink_to "$(wc -c <"$(ls "$PEER_DIR"/tftpd-"$port"/root/*.cfg | head -1)")"
ours=$(tftp_rate "$TFTP" "$PROV_TOKEN/%012x.cfg")
report tftp tftpd-hpa "$peer" "$ours" "(file: Dialtone $PADDED_SIZE B, tftpd-hpa $PEER_SIZE B)"
