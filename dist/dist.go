package dist

import _ "embed"

// Unit is dialtone.service with the default paths: the binary at
// DefaultBinary, the store at DefaultData.
//
//go:embed dialtone.service
var Unit string

// The paths written in Unit, replaced by `dialtone install --prefix/--data`.
const (
	DefaultBinary = "/usr/local/bin/dialtone"
	DefaultData   = "/var/lib/dialtone"
)
