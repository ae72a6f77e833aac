package ldapdir

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
)

// Authenticator checks a person's login password; the store (or admin) provides it.
// ok is false for a wrong password or an unknown user.
type Authenticator interface {
	CheckPassword(ctx context.Context, tenant, userID, password string) (ok bool, err error)
}

// Options configure a Server. The zero value of each field picks the default.
type Options struct {
	Logger *slog.Logger
	// Auth verifies users binding with their own DN or e-mail; nil refuses such binds.
	Auth Authenticator
	// TLS enables the StartTLS extended operation (RFC 4511 §4.14) and ServeTLS (LDAPS).
	TLS *tls.Config
	// MaxMessage bounds one request in bytes (default 256 KiB, as slapd allows anonymous
	// clients); a longer one drops the connection.
	MaxMessage int
	// SizeLimit caps the entries of one search (default 500, as slapd).
	SizeLimit int
	// TimeLimit caps the time of one search (default 60 s).
	TimeLimit time.Duration
	// IdleTimeout closes connections that send nothing for this long (default 30 min).
	IdleTimeout time.Duration
	// ConnsPerSource caps the connections one source (ratelimit.Source) holds open at
	// once (default 32, enough for the phones behind an office NAT; < 0 no cap). An
	// accepted connection over it is closed at once and passed to Refused.
	ConnsPerSource int
	Refused        func(netip.Addr)
	// Observe, when set, is called after each bind and search with "bind" or "search",
	// the result code answered (RFC 4511 §4.1.9; -1: none, the connection was dropped)
	// and the time the operation took.
	Observe func(op string, code int, d time.Duration)
}

// Server answers LDAP on the listeners it is given, from a Directory.
type Server struct {
	dir       *Directory
	opts      Options
	log       *slog.Logger
	strikes   *ratelimit.Strikes[netip.Addr] // failed binds per source (throttle.go)
	now       func() time.Time
	dse       []dseAttr
	subschema []dseAttr

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// New returns a server for dir.
func New(dir *Directory, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 256 << 10
	}
	if opts.SizeLimit <= 0 {
		opts.SizeLimit = 500
	}
	if opts.TimeLimit <= 0 {
		opts.TimeLimit = 60 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.ConnsPerSource == 0 {
		opts.ConnsPerSource = DefaultConnsPerSource
	}
	log := opts.Logger.With("svc", "ldap")
	s := &Server{
		dir: dir, opts: opts, log: log, now: time.Now,
		conns: map[net.Conn]struct{}{},
	}
	s.strikes = newBindStrikes(func() time.Time { return s.now() })
	s.dse = buildDSE(s)
	s.subschema = buildSubschema()
	return s
}

// LoadTLS reads a certificate and key for LDAPS and StartTLS.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("ldap tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// DefaultConnsPerSource is Options.ConnsPerSource's default.
const DefaultConnsPerSource = 32

// Serve accepts LDAP connections on ln until ctx is cancelled, then closes them and
// returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, s.capped(ln), false)
}

// capped applies ConnsPerSource to ln (before TLS: an over-cap connection costs no
// handshake).
func (s *Server) capped(ln net.Listener) net.Listener {
	return ratelimit.Listener(ln, s.opts.ConnsPerSource, nil, func(a netip.Addr) {
		s.log.Debug("ldap connection over the per-source cap closed", "remote", a, "cap", s.opts.ConnsPerSource)
		if s.opts.Refused != nil {
			s.opts.Refused(a)
		}
	})
}

// ServeTLS accepts LDAPS connections (TLS from the first byte) on ln.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener) error {
	if s.opts.TLS == nil {
		return errors.New("ldaps: no TLS certificate configured")
	}
	return s.serve(ctx, tls.NewListener(s.capped(ln), s.opts.TLS), true)
}

func (s *Server) serve(ctx context.Context, ln net.Listener, secure bool) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				s.shutdown()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.shutdown()
			return fmt.Errorf("ldap accept: %w", err)
		}
		delay = 0
		s.mu.Lock()
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
			// A panic in any operation drops this one connection (run closes it).
			defer crash.Recover(s.log, "ldap", "connection")
			newConn(s, nc, secure).run(ctx)
		}()
	}
}

// shutdown closes open connections and waits a short while for their goroutines.
func (s *Server) shutdown() {
	s.mu.Lock()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

// conn is one client connection: one goroutine reads a request, answers it into a
// buffered writer and flushes when no further request is already waiting.
type conn struct {
	srv    *Server
	nc     net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	buf    []byte
	hdr    []byte // an LDAPMessage envelope (writeMessage)
	enc    encoder
	ip     string
	src    netip.Addr // ratelimit.Source of the peer: what failed binds are struck under
	secure bool
	who    identity
	ctrls  []control
	code   int // result code of the latest response written (result, done)
	bits   bitset
	dirty  bitset
	hits   []*entry
	base   baseCache
}

func newConn(s *Server, nc net.Conn, secure bool) *conn {
	ip := nc.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return &conn{
		srv: s, nc: nc, ip: ip, src: sourceOf(nc.RemoteAddr()), secure: secure,
		r: bufio.NewReaderSize(nc, 4096), w: bufio.NewWriterSize(nc, 16<<10),
	}
}

func (c *conn) run(ctx context.Context) {
	defer c.nc.Close()
	for ctx.Err() == nil {
		c.nc.SetReadDeadline(c.srv.now().Add(c.srv.opts.IdleTimeout))
		msg, buf, err := readMessage(c.r, c.buf, c.srv.opts.MaxMessage)
		c.buf = buf
		if err != nil {
			var big errTooLarge
			if errors.As(err, &big) || !isClosed(err) {
				c.srv.log.Debug("ldap connection dropped", "remote", c.ip, "err", err)
				c.disconnect()
			}
			return
		}
		more, err := c.handle(ctx, msg)
		if err != nil {
			c.srv.log.Debug("ldap bad request", "remote", c.ip, "err", err)
			c.disconnect()
			return
		}
		if !more {
			c.w.Flush()
			return
		}
		if c.r.Buffered() == 0 {
			c.nc.SetWriteDeadline(c.srv.now().Add(time.Minute))
			if c.w.Flush() != nil {
				return
			}
		}
	}
}

func isClosed(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.Is(err, errEOF) || (errors.As(err, &ne) && ne.Timeout())
}

// disconnect sends the Notice of Disconnection (RFC 4511 §4.4.1) with protocolError.
func (c *conn) disconnect() {
	e := &c.enc
	e.reset()
	e.open(tagSequence)
	e.int(tagInteger, 0)
	e.open(appTag(true, appExtendedResponse))
	e.int(tagEnumerated, resultProtocolError)
	e.str(tagOctetString, "")
	e.str(tagOctetString, "malformed or oversize message")
	e.str(ctxTag(false, 10), oidNoticeOfDisconnection)
	e.close()
	e.close()
	c.nc.SetWriteDeadline(c.srv.now().Add(time.Second))
	c.w.Write(e.b)
	c.w.Flush()
}
