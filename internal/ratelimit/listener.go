package ratelimit

import (
	"io"
	"net"
	"net/netip"
	"sync"
)

// Listener caps the connections one source holds open on ln at once (see Conns): an
// accepted connection over the cap is closed at once, before any byte is read, and
// refused is called with its address (for a counter); Accept then waits for the next.
// max < 1 means no cap; exempt, when set, names sources the cap does not apply to (a
// trusted reverse proxy carries many clients). A connection's slot is given back by its
// first Close.
func Listener(ln net.Listener, max int, exempt func(netip.Addr) bool, refused func(netip.Addr)) net.Listener {
	if max < 1 {
		return ln
	}
	return &capListener{Listener: ln, conns: NewConns(max), exempt: exempt, refused: refused}
}

type capListener struct {
	net.Listener
	conns   *Conns
	exempt  func(netip.Addr) bool
	refused func(netip.Addr)
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return c, err
		}
		addr := remoteAddr(c)
		if !addr.IsValid() || (l.exempt != nil && l.exempt(addr.Unmap())) {
			return c, nil // not an IP connection, or exempt: nothing to count
		}
		if !l.conns.Acquire(addr) {
			if l.refused != nil {
				l.refused(addr)
			}
			c.Close()
			continue
		}
		return &capConn{Conn: c, l: l, addr: addr}, nil
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr()
	case *net.UDPAddr:
		return a.AddrPort().Addr()
	}
	return netip.Addr{}
}

// capConn gives its slot back on Close. ReadFrom is passed through so sendfile(2) still
// serves large files when the wrapped connection offers it.
type capConn struct {
	net.Conn
	l    *capListener
	addr netip.Addr
	once sync.Once
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.conns.Release(c.addr) })
	return err
}

func (c *capConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// Unwrap is the connection the cap wraps.
func (c *capConn) Unwrap() net.Conn { return c.Conn }
