//go:build !linux || norawtcp

package rawtcp

import "net"

// Listener returns ln as it is: the raw path is Linux's, and the norawtcp build tag
// (bench/http.sh's comparison binary) leaves it out.
func Listener(ln net.Listener) net.Listener { return ln }
