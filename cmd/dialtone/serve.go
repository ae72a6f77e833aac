package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sync/errgroup"

	"github.com/dialtone/dialtone/internal/tlscert"
	"github.com/dialtone/dialtone/ldapdir"
	"github.com/dialtone/dialtone/mail"
	"github.com/dialtone/dialtone/metrics"
	"github.com/dialtone/dialtone/store"
)

// drainTimeout bounds how long in-flight work may take after a stop signal. It is its own
// deadline: the serving context is already cancelled by then.
const drainTimeout = 5 * time.Second

// Main is one running Dialtone: the store, every bound listener, and the services wired
// over them.
type Main struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	metrics *metrics.Registry

	httpLn  net.Listener
	httpsLn net.Listener // nil when --https is empty
	tftpPC  *net.UDPConn
	sipPC   net.PacketConn
	sipLn   net.Listener
	pnp     *pnpDesk     // SIP plug-and-play, nil when off
	sipsLn  net.Listener // SIP over TLS
	ldapLn  net.Listener
	ldapsLn net.Listener
	control net.Listener
	// metricsLn is --metrics-addr (nil when it is empty): /metrics, /healthz, /readyz.
	metricsLn net.Listener

	// proxies are the --trusted-proxy prefixes.
	proxies []netip.Prefix

	// tls is the certificate of every TLS listener.
	tls *tlscert.Manager

	// mailer queues and sends mail (welcome mails of users imported through the control
	// socket too).
	mailer *mail.Mailer

	// Addrs are the addresses actually bound, by service name.
	Addrs map[string]string

	services []service
	// handler answers the HTTP and HTTPS listeners' requests (http.go).
	handler fasthttp.RequestHandler
	// metricsFast is /metrics on those listeners (with --metrics-token only).
	metricsFast fasthttp.RequestHandler
	// probe, serving and follower are what /readyz checks (health.go).
	probe    storeProber
	serving  serving
	follower *ldapdir.Follower
	// lastBackup is when the newest backup, scheduled or online, was taken (unix ns;
	// 0 unknown).
	lastBackup atomic.Int64
	// closers stop services' background work before the store closes.
	closers []func() error
}

// A service serves on what NewMain bound until ctx is cancelled, then drains.
type service struct {
	name  string
	serve func(ctx context.Context) error
}

// NewMain opens the store (bootstrapping an empty one), binds every listener, and wires
// the services. Nothing is served until Run.
func NewMain(cfg Config, log *slog.Logger, stdout io.Writer) (*Main, error) {
	m := &Main{cfg: cfg, log: log, metrics: metrics.New(), Addrs: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			m.Close()
		}
	}()
	if err := m.openStore(stdout); err != nil {
		return nil, err
	}
	if err := m.bind(); err != nil {
		return nil, err
	}
	if err := m.wire(); err != nil {
		return nil, err
	}
	ok = true
	return m, nil
}

func (m *Main) openStore(stdout io.Writer) error {
	if err := os.MkdirAll(m.cfg.Data, 0o750); err != nil {
		return fmt.Errorf("--data %s: %w", m.cfg.Data, err)
	}
	opts := store.Options{Dir: m.cfg.Data, Logger: m.log}
	if h := m.hooks().storeOptions; h != nil {
		h(&opts)
	}
	st, err := store.Open(opts)
	if err != nil {
		return fmt.Errorf("--data %s: %w", m.cfg.Data, err)
	}
	m.store = st
	created, generated, err := st.Bootstrap(m.cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if created {
		m.log.Info("first start: created tenant default and System Owner", "login", store.BootstrapAdminEmail)
		if generated != "" {
			// Printed once, on stdout, never through the logger.
			fmt.Fprintf(stdout, "\nAdmin login: %s\nPassword:    %s\n(shown once; set --admin-password to choose it)\n\n", store.BootstrapAdminEmail, generated)
		}
	} else if m.cfg.AdminPassword != "" {
		// The password only seeds an empty store; say so, or a newcomer's login fails unexplained.
		m.log.Warn("--admin-password (or DIALTONE_ADMIN_PASSWORD) ignored: this store already has users; "+
			"to set a new password run: dialtone reset-password EMAIL --data "+m.cfg.Data, "data", m.cfg.Data)
	}
	return nil
}

// bind takes every socket before anything is served, so a port that cannot be had stops
// the start with an error naming its flag.
func (m *Main) bind() error {
	var err error
	if m.httpLn, err = net.Listen("tcp", m.cfg.HTTP); err != nil {
		return fmt.Errorf("--http %s: %w", m.cfg.HTTP, err)
	}
	m.noteAddr("http", m.httpLn.Addr())
	if m.cfg.HTTPS != "" {
		if m.httpsLn, err = net.Listen("tcp", m.cfg.HTTPS); err != nil {
			return fmt.Errorf("--https %s: %w", m.cfg.HTTPS, err)
		}
		m.noteAddr("https", m.httpsLn.Addr())
	}
	if m.cfg.TFTP != "" {
		ua, err := net.ResolveUDPAddr("udp", m.cfg.TFTP)
		if err != nil {
			return fmt.Errorf("--tftp %s: %w", m.cfg.TFTP, err)
		}
		if m.tftpPC, err = net.ListenUDP("udp", ua); err != nil {
			return fmt.Errorf("--tftp %s: %w", m.cfg.TFTP, err)
		}
		m.noteAddr("tftp", m.tftpPC.LocalAddr())
	}
	if m.cfg.SIP != "" {
		if m.sipPC, m.sipLn, err = bindUDPAndTCP(m.cfg.SIP); err != nil {
			return fmt.Errorf("--sip %s: %w", m.cfg.SIP, err)
		}
		m.noteAddr("sip", m.sipPC.LocalAddr())
		m.noteAddr("sip", m.sipLn.Addr())
	}
	if m.cfg.SIPS != "" {
		if m.sipsLn, err = net.Listen("tcp", m.cfg.SIPS); err != nil {
			return fmt.Errorf("--sips %s: %w", m.cfg.SIPS, err)
		}
		m.noteAddr("sips", m.sipsLn.Addr())
	}
	if m.cfg.LDAP != "" {
		if m.ldapLn, err = net.Listen("tcp", m.cfg.LDAP); err != nil {
			return fmt.Errorf("--ldap %s: %w", m.cfg.LDAP, err)
		}
		m.noteAddr("ldap", m.ldapLn.Addr())
	}
	if m.cfg.LDAPS != "" {
		if m.ldapsLn, err = net.Listen("tcp", m.cfg.LDAPS); err != nil {
			return fmt.Errorf("--ldaps %s: %w", m.cfg.LDAPS, err)
		}
		m.noteAddr("ldaps", m.ldapsLn.Addr())
	}
	if err := m.bindMetrics(); err != nil {
		return fmt.Errorf("--metrics-addr %s: %w", m.cfg.MetricsAddr, err)
	}
	if m.control, err = listenControl(m.cfg.Data); err != nil {
		return fmt.Errorf("--data %s: control socket: %w", m.cfg.Data, err)
	}
	return nil
}

func (m *Main) noteAddr(name string, a net.Addr) {
	m.Addrs[name] = a.String()
	m.log.Info("listening", "svc", name, "addr", a.String(), "net", a.Network())
}

// bindUDPAndTCP binds both transports on one port; with port 0 the TCP side takes the
// port the UDP side was given (tried a few times, in case another process grabs it).
func bindUDPAndTCP(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 0; attempt < 10; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		p := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" {
			return nil, nil, err
		}
	}
	return nil, nil, errors.New("no port free on both UDP and TCP")
}

// Run serves every service under one errgroup until ctx is cancelled or one fails.
func (m *Main) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, s := range m.services {
		g.Go(func() error {
			m.serving.set(s.name, true)
			defer m.serving.set(s.name, false)
			if err := s.serve(ctx); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			return nil
		})
	}
	err := g.Wait()
	m.log.Info("stopped")
	return err
}

// Close releases every listener, the services' background work, and the store.
func (m *Main) Close() error {
	var ls []io.Closer
	if m.httpLn != nil {
		ls = append(ls, m.httpLn)
	}
	if m.httpsLn != nil {
		ls = append(ls, m.httpsLn)
	}
	if m.tftpPC != nil {
		ls = append(ls, m.tftpPC)
	}
	if m.sipPC != nil {
		ls = append(ls, m.sipPC, m.sipLn)
	}
	if m.sipsLn != nil {
		ls = append(ls, m.sipsLn)
	}
	if m.ldapLn != nil {
		ls = append(ls, m.ldapLn)
	}
	if m.ldapsLn != nil {
		ls = append(ls, m.ldapsLn)
	}
	if m.control != nil {
		ls = append(ls, m.control)
	}
	if m.metricsLn != nil {
		ls = append(ls, m.metricsLn)
	}
	for _, c := range ls {
		c.Close()
	}
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil {
			m.log.Warn("close", "err", err)
		}
	}
	m.closers = nil
	if m.control != nil {
		os.Remove(filepath.Join(m.cfg.Data, controlSocketName))
	}
	if m.store != nil {
		err := m.store.Close()
		m.store = nil
		return err
	}
	return nil
}
