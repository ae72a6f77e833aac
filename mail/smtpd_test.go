package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one mail as the in-process SMTP server got it.
type received struct {
	From, To string
	Data     []byte
	TLS      bool
	User     string // authenticated as
}

// smtpd is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0.
type smtpd struct {
	addr    string
	mails   chan received
	refuse  atomic.Bool // answer 550 to RCPT
	clients *x509.CertPool
	conns   atomic.Int32
}

type smtpdOpts struct {
	starttls bool // offer STARTTLS
	implicit bool // TLS from the first byte (smtps)
	user     string
	pass     string
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func startSMTPD(t *testing.T, o smtpdOpts) *smtpd {
	t.Helper()
	d := &smtpd{mails: make(chan received, 16)}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		d.conns.Add(1)
		_, isTLS := c.TLSConnectionState()
		return &smtpSession{d: d, o: o, tls: isTLS, c: c}, nil
	})
	srv := smtp.NewServer(be)
	srv.Domain = "smtp.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.starttls || o.implicit {
		cert, pool := selfSigned(t)
		d.clients = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		if o.implicit {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	}
	d.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return d
}

// wait gives the next mail received, or fails after a while.
func (d *smtpd) wait(t *testing.T) received {
	t.Helper()
	select {
	case m := <-d.mails:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail arrived at the SMTP server")
	}
	return received{}
}

type smtpSession struct {
	d    *smtpd
	o    smtpdOpts
	c    *smtp.Conn
	tls  bool
	user string
	from string
	to   string
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.o.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.o.user || pass != s.o.pass {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.o.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.d.refuse.Load() {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying refused"}
	}
	s.to = to
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	s.d.mails <- received{From: s.from, To: s.to, Data: b.Bytes(), TLS: isTLS || s.tls, User: s.user}
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", "" }
func (s *smtpSession) Logout() error { return nil }

// hangingServer accepts connections and never says a word.
func hangingServer(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted
}
