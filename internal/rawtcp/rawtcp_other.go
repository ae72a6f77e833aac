//go:build !linux

package rawtcp

import "net"

// Listener returns ln as it is: the raw path is Linux's.
func Listener(ln net.Listener) net.Listener { return ln }
