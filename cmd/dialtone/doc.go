// Command dialtone is the one binary: `serve` (the default) runs every service over one
// store; `version`, `backup`, `restore` and `import-users` are the operator's tools.
//
// This package owns flags, environment and the config file, binding every listener before
// serving (so a port that cannot be bound stops the start and names its flag), wiring the
// protocol packages to each other through the small interfaces they declare, /healthz and
// /metrics, the control socket in the data directory (online backup and import while serve
// runs) and graceful shutdown. It owns no protocol and no domain logic.
//
// A panic in an HTTP handler answers that request 500 in the API's error shape
// ({"error":{"code":"internal",…}}) and closes its connection; one in a control-socket
// command ends that command; the flex auto-logout loop is started again after one. Every
// recovered panic is logged once with its stack and counted in
// dialtone_panics_total{service} (internal/crash).
package main
