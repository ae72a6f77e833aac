// Package dist holds what Dialtone installs beside its binary: the systemd unit
// (dialtone.service: user dialtone, CAP_NET_BIND_SERVICE only, NoNewPrivileges,
// ProtectSystem=strict with the data directory writable, restart on failure, reload by
// SIGHUP), embedded so that `dialtone install` needs nothing but the binary.
package dist
