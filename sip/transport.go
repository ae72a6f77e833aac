package sip

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

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

// tcpConn is one accepted SIP-over-TCP connection.
type tcpConn struct {
	c  net.Conn
	mu sync.Mutex // serialises writes
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
		tc := &tcpConn{c: c}
		s.mu.Lock()
		if len(s.tcp) >= maxTCPConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.tcp[ap] = tc
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.readTCP(tc, ap)
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
func (s *Server) readTCP(tc *tcpConn, src netip.AddrPort) {
	defer func() {
		tc.c.Close()
		s.mu.Lock()
		if s.tcp[src] == tc {
			delete(s.tcp, src)
		}
		s.mu.Unlock()
	}()
	r := bufio.NewReaderSize(tc.c, 4096)
	w := &replyWriter{b: make([]byte, 0, 2048)}
	in := &inbound{src: src, transport: "TCP", write: func(b []byte, _ netip.AddrPort) error { return tc.write(b) }}
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

func contentLength(line []byte) (int, bool) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return 0, false
	}
	if headerKind(bytes.TrimSpace(line[:i])) != hContentLength {
		return 0, false // every other header line, without lower-casing a copy of it
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(line[i+1:])))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
