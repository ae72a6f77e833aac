package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// smtpServer is the parsed --smtp URL.
type smtpServer struct {
	implicitTLS bool   // smtps:// (RFC 8314 §3.3)
	host        string // for TLS verification and AUTH
	addr        string // host:port
	user, pass  string
}

// parseSMTP reads smtp://[user:pass@]host[:port] or smtps://…. Its errors never repeat
// the URL, which may hold a password.
func parseSMTP(raw string) (*smtpServer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("--smtp: not a URL (smtp://[user:pass@]host:port or smtps://…)")
	}
	s := &smtpServer{host: u.Hostname()}
	port := u.Port()
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		if port == "" {
			port = "25"
		}
	case "smtps":
		s.implicitTLS = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, errors.New("--smtp: the scheme must be smtp:// or smtps://")
	}
	if s.host == "" {
		return nil, errors.New("--smtp: no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("--smtp: only smtp://[user:pass@]host:port, no path or query")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.addr = net.JoinHostPort(s.host, port)
	return s, nil
}

// String names the server for logs: never the user or password.
func (s *smtpServer) String() string {
	if s.implicitTLS {
		return "smtps://" + s.addr
	}
	return "smtp://" + s.addr
}

// deadlineConn gives every read and write its own deadline (a server that hangs costs
// one step), never later than the end of the whole session.
type deadlineConn struct {
	net.Conn
	step time.Duration
	end  time.Time
}

func (d *deadlineConn) next() time.Time {
	t := time.Now().Add(d.step)
	if t.After(d.end) {
		return d.end
	}
	return t
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	if err := d.Conn.SetReadDeadline(d.next()); err != nil {
		return 0, err
	}
	return d.Conn.Read(p)
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	if err := d.Conn.SetWriteDeadline(d.next()); err != nil {
		return 0, err
	}
	return d.Conn.Write(p)
}

// session is one SMTP connection, ready for transactions.
type session struct {
	c    *smtp.Client
	conn net.Conn
	stop func() bool
}

// open connects, greets (RFC 5321 §4.1.1.1 EHLO), starts TLS when the server offers it
// (RFC 3207) or from the first byte for smtps, and authenticates when a user is given
// (RFC 4954, PLAIN: net/smtp refuses to send it unencrypted except to localhost).
func (m *Mailer) open(ctx context.Context) (*session, error) {
	s := m.server
	d := net.Dialer{Timeout: m.cfg.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	ss := &session{conn: raw, stop: context.AfterFunc(ctx, func() { raw.Close() })}
	fail := func(step string, err error) (*session, error) {
		ss.close()
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	var conn net.Conn = &deadlineConn{Conn: raw, step: m.cfg.StepTimeout, end: time.Now().Add(m.cfg.SessionTimeout)}
	tlsCfg := m.tlsConfig()
	if s.implicitTLS {
		tc := tls.Client(conn, tlsCfg)
		hctx, cancel := context.WithTimeout(ctx, m.cfg.StepTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fail("tls", err)
		}
		conn = tc
	}
	if ss.c, err = smtp.NewClient(conn, s.host); err != nil {
		return fail("greeting", err)
	}
	if err := ss.c.Hello(m.domain); err != nil {
		return fail("ehlo", err)
	}
	if !s.implicitTLS {
		if ok, _ := ss.c.Extension("STARTTLS"); ok {
			if err := ss.c.StartTLS(tlsCfg); err != nil {
				return fail("starttls", err)
			}
		}
	}
	if s.user != "" {
		if ok, _ := ss.c.Extension("AUTH"); !ok {
			return fail("auth", errors.New("the server offers no AUTH"))
		}
		if err := ss.c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return fail("auth", err)
		}
	}
	return ss, nil
}

func (m *Mailer) tlsConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.cfg.TLS != nil {
		c = m.cfg.TLS.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = m.server.host
	}
	return c
}

// send runs one mail transaction (RFC 5321 §3.3). broken says the session cannot go on;
// otherwise a refused mail is followed by RSET (§4.1.1.5) and the session stays usable.
func (ss *session) send(from, to string, msg []byte) (broken bool, err error) {
	defer func() {
		if err == nil {
			return
		}
		var te *textproto.Error
		if errors.As(err, &te) && ss.c.Reset() == nil {
			return
		}
		broken = true
	}()
	if err := ss.c.Mail(from); err != nil {
		return false, fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := ss.c.Rcpt(to); err != nil {
		return false, fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := ss.c.Data()
	if err != nil {
		return false, fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return false, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return false, fmt.Errorf("end of DATA: %w", err)
	}
	return false, nil
}

// close ends the session politely when it still can (QUIT), then closes the socket.
func (ss *session) close() {
	if ss.c != nil {
		done := make(chan struct{})
		go func() { ss.c.Quit(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	ss.conn.Close()
	ss.stop()
}
