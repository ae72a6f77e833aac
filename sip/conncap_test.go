package sip

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tcpFrom opens a SIP-over-TCP connection from src (any 127/8 address is local).
func tcpFrom(t *testing.T, e *env, src string) net.Conn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", e.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// optionsOver sends an OPTIONS on c and reports whether a SIP answer came back.
func optionsOver(c net.Conn, e *env, n int) bool {
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKcap%d\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: cap%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		e.domain, c.LocalAddr(), n, e.domain, n)
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SIP/2.0 ")
}

// One source holds at most TCPConnsPerSource connections; the next is closed at once
// and counted; another source is served.
func TestSIPTCPConnsPerSource(t *testing.T) {
	var refused atomic.Int32
	e := newEnv(t, func(e *env) {
		e.cfgHook = func(c *Config) {
			c.TCPConnsPerSource = 2
			c.TCPRefused = func(netip.Addr) { refused.Add(1) }
		}
	})
	a, b := tcpFrom(t, e, "127.4.0.1"), tcpFrom(t, e, "127.4.0.1")
	if !optionsOver(a, e, 1) || !optionsOver(b, e, 2) {
		t.Fatal("connections under the cap not served")
	}
	if optionsOver(tcpFrom(t, e, "127.4.0.1"), e, 3) {
		t.Fatal("a third connection from one source was served")
	}
	if refused.Load() != 1 {
		t.Errorf("refused counted %d times, want 1", refused.Load())
	}
	if !optionsOver(tcpFrom(t, e, "127.4.0.2"), e, 4) {
		t.Error("another source not served")
	}
}
