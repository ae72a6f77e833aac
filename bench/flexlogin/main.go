// Command flexlogin measures flex login end to end against a running Dialtone: N flex
// phones, each a UDP socket on loopback, register their guest accounts and dial
// *55*{ext}*{pin} once (INVITE, 407, INVITE with credentials). For each login it takes
// the time from writing the authenticated login INVITE to reading the check-sync NOTIFY
// at the phone (so an upper bound of the time to the NOTIFY leaving the server), and
// prints p50, p99 and max. Each login starts after a random pause of up to 200 ms, so
// logins arrive at random times, as people at desks do. Run by bench/flex.sh.
//
//	flexlogin -http 127.0.0.1:8080 -sip 127.0.0.1:5060 -token T [-n 1000] [-c 32]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

var (
	httpAddr = flag.String("http", "", "Dialtone HTTP address (admin API)")
	sipAddr  = flag.String("sip", "", "Dialtone SIP address (UDP)")
	token    = flag.String("token", "", "admin API bearer token")
	n        = flag.Int("n", 1000, "logins (one flex phone and one user each)")
	conc     = flag.Int("c", 32, "logins in flight at once")
	extBase  = flag.Int("ext", 70000, "first extension number")
	tenant   = flag.String("tenant", "default", "tenant slug")
)

const pin = "482916"

type flexPhone struct {
	i                  int
	mac, ext           string
	guestUser, guestPW string
}

type result struct {
	notify time.Duration // authenticated INVITE written -> NOTIFY read
	answer time.Duration // authenticated INVITE written -> 603 read
}

func main() {
	flag.Parse()
	if *httpAddr == "" || *sipAddr == "" || *token == "" {
		flag.Usage()
		os.Exit(2)
	}
	srv, err := net.ResolveUDPAddr("udp", *sipAddr)
	if err != nil {
		log.Fatal(err)
	}
	var t struct {
		SIPDomain string `json:"sip_domain"`
	}
	if err := api("GET", "/api/v1/tenants/"+*tenant, nil, &t); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	phones := make([]*flexPhone, *n)
	err = parallel(*n, 16, func(i int) error {
		p := &flexPhone{i: i, mac: fmt.Sprintf("02f1e5%06x", i), ext: strconv.Itoa(*extBase + i)}
		body := map[string]any{"first_name": "Flex", "last_name": "Bench " + strconv.Itoa(i),
			"extensions": []string{p.ext}, "pin": pin}
		if err := api("POST", "/api/v1/tenants/"+*tenant+"/users", body, nil); err != nil {
			return err
		}
		var ph struct {
			Guest struct {
				User string `json:"sip_username"`
				PW   string `json:"sip_password"`
			} `json:"guest"`
		}
		if err := api("POST", "/api/v1/tenants/"+*tenant+"/phones", map[string]any{"mac": p.mac, "model": "T46U", "flex": true}, &ph); err != nil {
			return err
		}
		if ph.Guest.User == "" || ph.Guest.PW == "" {
			return fmt.Errorf("phone %s: no guest account in the answer", p.mac)
		}
		p.guestUser, p.guestPW = ph.Guest.User, ph.Guest.PW
		phones[i] = p
		return nil
	})
	if err != nil {
		log.Fatalf("setup: %v", err)
	}
	// Let the check-sync work for the new phones pass (they were not registered yet).
	time.Sleep(time.Second)
	fmt.Fprintf(os.Stderr, "    flex: %d users and flex phones created in %.1fs\n", *n, time.Since(start).Seconds())

	conns := make([]*net.UDPConn, *n)
	for i := range conns {
		if conns[i], err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			log.Fatal(err)
		}
		defer conns[i].Close()
	}
	start = time.Now()
	err = parallel(*n, *conc, func(i int) error {
		return (&ua{c: conns[i], srv: srv, domain: t.SIPDomain, p: phones[i]}).register()
	})
	if err != nil {
		log.Fatalf("guest registrations: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	fmt.Fprintf(os.Stderr, "    flex: %d guest accounts registered in %.1fs\n", *n, time.Since(start).Seconds())

	results := make([]result, *n)
	var failed atomic.Int64
	var firstErr atomic.Value
	start = time.Now()
	_ = parallel(*n, *conc, func(i int) error {
		// A random pause first, so that logins do not start in step with the NOTIFYs
		// that ended the previous ones (and with whatever timer sent those).
		time.Sleep(rand.N(200 * time.Millisecond))
		r, err := (&ua{c: conns[i], srv: srv, domain: t.SIPDomain, p: phones[i]}).login()
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			results[i] = result{notify: -1}
			return nil
		}
		results[i] = r
		return nil
	})
	took := time.Since(start)
	var notify, answer []time.Duration
	for _, r := range results {
		if r.notify >= 0 {
			notify = append(notify, r.notify)
			answer = append(answer, r.answer)
		}
	}
	if len(notify) == 0 {
		log.Fatalf("no login completed: %v", firstErr.Load())
	}
	slices.Sort(notify)
	slices.Sort(answer)
	fmt.Printf("flex  login INVITE -> check-sync NOTIFY at the phone, over %d logins (%d in flight, %.1fs): p50 %s  p99 %s  max %s   (603 answer: p50 %s  p99 %s)   failed %d\n",
		len(notify), *conc, took.Seconds(), ms(pct(notify, 50)), ms(pct(notify, 99)), ms(notify[len(notify)-1]),
		ms(pct(answer, 50)), ms(pct(answer, 99)), failed.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "    flex: first failure: %v\n", e)
	}
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

func pct(d []time.Duration, p int) time.Duration {
	i := (len(d)*p+99)/100 - 1 // nearest rank
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// parallel runs f(0..n-1) with at most c at once and returns the first error.
func parallel(n, c int, f func(int) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, c)
	var first error
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

var client = &http.Client{Timeout: 30 * time.Second}

func api(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+*httpAddr+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ua is one flex phone's SIP side on its own socket.
type ua struct {
	c      *net.UDPConn
	srv    *net.UDPAddr
	domain string
	p      *flexPhone
	cseq   int
	buf    [65536]byte
}

func (u *ua) local() string { return u.c.LocalAddr().String() }

func (u *ua) registerMsg(callID, auth string) []byte {
	u.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", u.domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", u.local(), rnd())
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", u.p.guestUser, u.domain, rnd())
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n", u.p.guestUser, u.domain, callID, u.cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-%s>\"\r\n", u.p.guestUser, u.local(), u.p.mac)
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("Expires: 3600\r\nUser-Agent: Dialtone flexlogin bench\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func (u *ua) inviteMsg(dialled, callID, fromTag string, cseq int, auth string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:%s@%s SIP/2.0\r\n", dialled, u.domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", u.local(), rnd())
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", u.p.guestUser, u.domain, fromTag)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\n", dialled, u.domain, callID, cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", u.p.guestUser, u.local())
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("User-Agent: Dialtone flexlogin bench\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// ack acknowledges a non-2xx final answer to an INVITE (RFC 3261 §17.1.1.3).
func (u *ua) ack(res *sip.Response, dialled string) {
	var b strings.Builder
	fmt.Fprintf(&b, "ACK sip:%s@%s SIP/2.0\r\n", dialled, u.domain)
	fmt.Fprintf(&b, "Via: %s\r\nMax-Forwards: 70\r\n", res.Via().Value())
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\n", res.From().Value(), res.To().Value(), res.CallID().Value())
	fmt.Fprintf(&b, "CSeq: %d ACK\r\nContent-Length: 0\r\n\r\n", res.CSeq().SeqNo)
	u.c.WriteToUDP([]byte(b.String()), u.srv)
}

// transact writes msg and returns the first final response with CSeq cseq, resending
// msg over UDP (T1 = 500 ms, doubling) until it comes or 8 s pass. Requests that arrive
// meanwhile (a NOTIFY) go to onRequest with the time they were read.
func (u *ua) transact(msg []byte, cseq int, onRequest func(*sip.Request, *net.UDPAddr, time.Time)) (*sip.Response, time.Time, error) {
	if _, err := u.c.WriteToUDP(msg, u.srv); err != nil {
		return nil, time.Time{}, err
	}
	deadline := time.Now().Add(8 * time.Second)
	interval := 500 * time.Millisecond
	next := time.Now().Add(interval)
	for {
		wait := next
		if deadline.Before(wait) {
			wait = deadline
		}
		u.c.SetReadDeadline(wait)
		m, from, at, err := u.read()
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return nil, time.Time{}, err
			}
			if !time.Now().Before(deadline) {
				return nil, time.Time{}, errors.New("no answer")
			}
			u.c.WriteToUDP(msg, u.srv)
			interval = min(2*interval, 4*time.Second)
			next = time.Now().Add(interval)
			continue
		}
		switch m := m.(type) {
		case *sip.Response:
			if m.StatusCode >= 200 && m.CSeq() != nil && int(m.CSeq().SeqNo) == cseq {
				return m, at, nil
			}
		case *sip.Request:
			if onRequest != nil {
				onRequest(m, from, at)
			}
		}
	}
}

// read reads one message; the time is taken as soon as the datagram is read.
func (u *ua) read() (sip.Message, *net.UDPAddr, time.Time, error) {
	for {
		k, from, err := u.c.ReadFromUDP(u.buf[:])
		at := time.Now()
		if err != nil {
			return nil, nil, at, err
		}
		m, err := sip.ParseMessage(slices.Clone(u.buf[:k]))
		if err != nil {
			continue
		}
		return m, from, at, nil
	}
}

func (u *ua) respond(req *sip.Request, to *net.UDPAddr) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	u.c.WriteToUDP([]byte(res.String()), to)
}

func (u *ua) authorize(res *sip.Response, method, uri string) (string, error) {
	name, hname := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, hname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range res.GetHeaders(name) {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil || !digest.CanDigest(chal) {
			continue
		}
		c, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: u.p.guestUser, Password: u.p.guestPW, Count: 1})
		if err != nil {
			continue
		}
		return hname + ": " + c.String(), nil
	}
	return "", fmt.Errorf("%d without a usable challenge", res.StatusCode)
}

// register: REGISTER, 401, REGISTER with credentials, 200.
func (u *ua) register() error {
	callID := rnd() + "@flexlogin"
	msg := u.registerMsg(callID, "")
	res, _, err := u.transact(msg, u.cseq, nil)
	if err != nil {
		return fmt.Errorf("phone %s REGISTER: %w", u.p.mac, err)
	}
	if res.StatusCode == 401 {
		auth, err := u.authorize(res, "REGISTER", "sip:"+u.domain)
		if err != nil {
			return err
		}
		msg = u.registerMsg(callID, auth)
		if res, _, err = u.transact(msg, u.cseq, nil); err != nil {
			return fmt.Errorf("phone %s REGISTER: %w", u.p.mac, err)
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("phone %s REGISTER: %d %s", u.p.mac, res.StatusCode, res.Reason)
	}
	return nil
}

// login dials the login code and times the authenticated INVITE to the NOTIFY.
func (u *ua) login() (result, error) {
	dialled := "*55*" + u.p.ext + "*" + pin
	uri := "sip:" + dialled + "@" + u.domain
	callID, tag := rnd()+"@flexlogin", rnd()
	var notified time.Time
	onNotify := func(req *sip.Request, from *net.UDPAddr, at time.Time) {
		if req.Method == sip.NOTIFY {
			if ev := req.GetHeader("Event"); ev != nil && strings.HasPrefix(ev.Value(), "check-sync") && notified.IsZero() {
				notified = at
			}
		}
		u.respond(req, from)
	}
	res, _, err := u.transact(u.inviteMsg(dialled, callID, tag, 1, ""), 1, onNotify)
	if err != nil {
		return result{}, fmt.Errorf("phone %s INVITE: %w", u.p.mac, err)
	}
	if res.StatusCode != 407 {
		return result{}, fmt.Errorf("phone %s INVITE: %d %s, want 407", u.p.mac, res.StatusCode, res.Reason)
	}
	u.ack(res, dialled)
	auth, err := u.authorize(res, "INVITE", uri)
	if err != nil {
		return result{}, err
	}
	if !notified.IsZero() {
		return result{}, fmt.Errorf("phone %s: a NOTIFY before the login", u.p.mac)
	}
	msg := u.inviteMsg(dialled, callID, tag, 2, auth)
	sent := time.Now()
	res, answered, err := u.transact(msg, 2, onNotify)
	if err != nil {
		return result{}, fmt.Errorf("phone %s login INVITE: %w", u.p.mac, err)
	}
	u.ack(res, dialled)
	if res.StatusCode != 603 || res.Reason != "Logged in "+u.p.ext {
		return result{}, fmt.Errorf("phone %s login: %d %s", u.p.mac, res.StatusCode, res.Reason)
	}
	deadline := time.Now().Add(5 * time.Second)
	for notified.IsZero() {
		u.c.SetReadDeadline(deadline)
		m, from, at, err := u.read()
		if err != nil {
			return result{}, fmt.Errorf("phone %s: no check-sync NOTIFY within 5 s of the 603: %w", u.p.mac, err)
		}
		if req, ok := m.(*sip.Request); ok {
			onNotify(req, from, at)
		}
	}
	return result{notify: notified.Sub(sent), answer: answered.Sub(sent)}, nil
}

var rndN atomic.Uint64

func rnd() string {
	return strconv.FormatUint(uint64(time.Now().UnixNano())^(rndN.Add(1)*0x9e3779b97f4a7c15), 36)
}
