package sip

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
)

// udpSocket is one UDP socket we read; requests we send leave from it.
type udpSocket struct {
	pc  net.PacketConn
	udp *net.UDPConn // when pc is one: allocation-free reads and writes
}

func (u *udpSocket) writeTo(b []byte, to netip.AddrPort) error {
	if u.udp != nil {
		_, err := u.udp.WriteToUDPAddrPort(b, to)
		return err
	}
	_, err := u.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

// udpBuffer is the socket buffer size asked for on each UDP socket.
const udpBuffer = 8 << 20

// ServeUDP answers SIP over UDP on a socket the caller bound, until ctx is cancelled
// (then it returns nil). Each reader goroutine parses and answers in place: no
// goroutine or pool entry per source address.
func (s *Server) ServeUDP(ctx context.Context, pc net.PacketConn) error {
	sock := &udpSocket{pc: pc}
	sock.udp, _ = pc.(*net.UDPConn)
	if sock.udp != nil {
		// A burst larger than the default socket buffer (~200 KiB) is dropped by the
		// kernel, and every drop comes back as a retransmission that adds to the load;
		// ask for a large buffer, as Kamailio does (the kernel caps it at rmem_max).
		sock.udp.SetReadBuffer(udpBuffer)
		sock.udp.SetWriteBuffer(udpBuffer)
	}
	s.mu.Lock()
	s.udp = append(s.udp, sock)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		for i, u := range s.udp {
			if u == sock {
				s.udp = append(s.udp[:i:i], s.udp[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	readers := max(s.cfg.Readers, 1)
	errc := make(chan error, readers)
	for range readers {
		go func() { errc <- s.readUDP(ctx, sock) }()
	}
	var first error
	for range readers {
		if err := <-errc; err != nil && first == nil {
			first = err
			pc.SetReadDeadline(time.Unix(1, 0)) // stop the other readers too
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return first
}

func (s *Server) readUDP(ctx context.Context, sock *udpSocket) error {
	buf := make([]byte, 65536)
	w := &replyWriter{b: make([]byte, 0, 2048)}
	in := &inbound{transport: "UDP", write: sock.writeTo}
	if ua, ok := sock.pc.LocalAddr().(*net.UDPAddr); ok {
		in.local = ua.AddrPort()
	}
	for {
		var (
			n   int
			src netip.AddrPort
			err error
		)
		if sock.udp != nil {
			n, src, err = sock.udp.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			n, a, err = sock.pc.ReadFrom(buf)
			if ua, ok := a.(*net.UDPAddr); ok {
				src = ua.AddrPort()
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil // deadline set by a failing sibling reader
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue // ICMP errors and the like: keep serving
		}
		if n == 0 || n >= len(buf) || !src.IsValid() {
			continue
		}
		in.src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		s.handleMessage(buf[:n], in, w)
	}
}

// tcpConn is one accepted SIP-over-TCP (or TLS) connection: a flow (RFC 5626 §3.1)
// that requests to the phones registered over it leave by.
type tcpConn struct {
	c         net.Conn
	transport string     // "TCP" or "TLS"
	mu        sync.Mutex // serialises writes
}

// flowKey names an open connection: its transport and the phone's address.
type flowKey struct {
	transport string
	src       netip.AddrPort
}

func (t *tcpConn) write(b []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := t.c.Write(b)
	return err
}

const (
	tcpIdle     = 10 * time.Minute // phones send CRLF keep-alives well within this
	maxTCPConns = 20000
)

// ServeTCP answers SIP over TCP on a listener the caller bound, until ctx is
// cancelled (then it returns nil, after closing the connections it accepted).
func (s *Server) ServeTCP(ctx context.Context, l net.Listener) error {
	return s.serveStream(ctx, l, nil)
}

// serveStream accepts SIP connections on l; with conf each speaks TLS (tls.go). Each
// source holds at most TCPConnsPerSource connections, counted before any handshake.
func (s *Server) serveStream(ctx context.Context, l net.Listener, conf *tls.Config) error {
	perSource := s.cfg.TCPConnsPerSource
	if perSource == 0 {
		perSource = DefaultTCPConnsPerSource
	}
	l = ratelimit.Listener(l, perSource, nil, func(a netip.Addr) {
		s.log.Debug("sip tcp connection over the per-source cap closed", "remote", a, "cap", perSource)
		if s.cfg.TCPRefused != nil {
			s.cfg.TCPRefused(a)
		}
	})
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				s.closeTCP()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		tc := &tcpConn{c: c, transport: "TCP"}
		if conf != nil {
			tc.c, tc.transport = tls.Server(c, conf), "TLS"
		}
		key := flowKey{tc.transport, ap}
		s.mu.Lock()
		if len(s.tcp) >= maxTCPConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.tcp[key] = tc
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer crash.Recover(s.log, "sip", tc.transport+" connection")
			if conf != nil && !s.handshake(ctx, tc, key) {
				return
			}
			s.readTCP(tc, key)
		}()
	}
}

func (s *Server) closeTCP() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tc := range s.tcp {
		tc.c.Close()
	}
}

// readTCP frames messages by the blank line and Content-Length (RFC 3261 §18.3).
func (s *Server) readTCP(tc *tcpConn, key flowKey) {
	defer s.dropConn(tc, key)
	r := bufio.NewReaderSize(tc.c, 4096)
	w := &replyWriter{b: make([]byte, 0, 2048)}
	in := &inbound{src: key.src, transport: tc.transport, write: func(b []byte, _ netip.AddrPort) error { return tc.write(b) }}
	if la, ok := tc.c.LocalAddr().(*net.TCPAddr); ok {
		in.local = netip.AddrPortFrom(la.AddrPort().Addr().Unmap(), la.AddrPort().Port()) // our side, for the proxy's Via and Record-Route
	}
	var msg []byte
	for {
		tc.c.SetReadDeadline(time.Now().Add(tcpIdle))
		msg = msg[:0]
		clen := -1
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return // closed, idle, or a line longer than the buffer
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				if len(msg) == 0 {
					continue // CRLF keep-alive (RFC 5626 §3.5.1)
				}
				msg = append(msg, line...)
				break
			}
			msg = append(msg, line...)
			if len(msg) > maxMessage {
				return
			}
			if n, ok := contentLength(line); ok {
				clen = n
			}
		}
		if clen < 0 {
			clen = 0 // RFC 3261 §18.3 requires it over TCP; treat absence as none
		}
		if clen > maxMessage-len(msg) {
			return
		}
		start := len(msg)
		msg = append(msg, make([]byte, clen)...)
		if _, err := io.ReadFull(r, msg[start:]); err != nil {
			return
		}
		s.handleMessage(msg, in, w)
	}
}

// dropConn closes a connection and forgets its flow.
func (s *Server) dropConn(tc *tcpConn, key flowKey) {
	tc.c.Close()
	s.mu.Lock()
	if s.tcp[key] == tc {
		delete(s.tcp, key)
	}
	s.mu.Unlock()
}

func contentLength(line []byte) (int, bool) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return 0, false
	}
	name := bytes.TrimSpace(line[:i])
	if !bytes.EqualFold(name, []byte("Content-Length")) && !bytes.EqualFold(name, []byte("l")) {
		return 0, false // every other header line (RFC 3261 §7.3.3: l is its compact form)
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(line[i+1:])))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
