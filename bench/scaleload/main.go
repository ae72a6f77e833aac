// Command scaleload is the latency side of bench/scaling.sh: it drives a running Dialtone
// with many distinct phones and prints how long each exchange took (p50, p99, max), which
// SIPp's register-auth scenario does not report and wrk cannot do "each phone once".
//
//	scaleload register -sip 127.0.0.1:5060 -domain 127.0.0.1 -users pairs.txt [-c 32] [-d 10s] [-once]
//	scaleload fetch -url http://127.0.0.1:8080/p/TOKEN/ -macs 100000 [-c 32]
//
// register: each worker is one UDP socket on loopback that registers the next account of
// the pairs file ("username password" a line): REGISTER, 401, REGISTER with digest
// credentials (RFC 3261 §22.4), 200; the time is taken from writing the first REGISTER to
// reading the 200, so two round trips and one digest check. With -once every account
// registers exactly once (the warm-up that gives every phone a binding); otherwise the
// workers cycle through the accounts for -d. An account always registers from the same
// socket (worker i takes accounts i, i+c, …), so it keeps one binding, as a phone does. Lost datagrams are resent as RFC 3261 §17.1.2
// says (T1 500 ms, doubling), and an exchange with no answer after 8 s counts as failed.
//
// fetch: asks for each of -macs Yealink configs ({mac}.cfg from 001565000000 up) exactly
// once, -c at a time, so every phone's file is rendered once (the cold fetch after a start
// or a change), and prints the latency of those first fetches.
package main

import (
	"bufio"
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

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scaleload register|fetch [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "register":
		register(os.Args[2:])
	case "fetch":
		fetch(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "scaleload: unknown mode %q (register or fetch)\n", os.Args[1])
		os.Exit(2)
	}
}

type account struct{ user, pass string }

func register(args []string) {
	fs := flag.NewFlagSet("register", flag.ExitOnError)
	sipAddr := fs.String("sip", "", "Dialtone SIP address (UDP)")
	domain := fs.String("domain", "127.0.0.1", "SIP domain of the accounts")
	usersFile := fs.String("users", "", `file of "username password" lines`)
	conc := fs.Int("c", 32, "registrations in flight (one UDP socket each)")
	dur := fs.Duration("d", 10*time.Second, "how long to run (without -once)")
	once := fs.Bool("once", false, "register every account exactly once, then stop")
	fs.Parse(args)
	srv, err := net.ResolveUDPAddr("udp", *sipAddr)
	if err != nil {
		log.Fatalf("-sip: %v", err)
	}
	accts, err := readAccounts(*usersFile)
	if err != nil {
		log.Fatal(err)
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *conc)
	deadline := time.Now().Add(*dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		u := &ua{c: c, srv: srv, domain: *domain}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker w registers accounts w, w+c, w+2c, …: an account always comes from
			// the same socket, so it keeps one binding, as a phone does.
			for i := w; ; i += *conc {
				if *once && i >= len(accts) || !*once && time.Now().After(deadline) {
					return
				}
				a := accts[i%len(accts)]
				t0 := time.Now()
				if err := u.register(a); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	all := slices.Concat(lat...)
	report("registers", all, failed.Load(), took)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "scaleload: first failure: %v\n", e)
	}
}

func readAccounts(name string) ([]account, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("-users: %w", err)
	}
	defer f.Close()
	var out []account
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		user, pass, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if ok && user != "" {
			out = append(out, account{user, pass})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-users %s: no accounts", name)
	}
	return out, sc.Err()
}

// report prints one line the script reads: count, failures, rate and the latencies.
func report(what string, lat []time.Duration, failed int64, took time.Duration) {
	if len(lat) == 0 {
		fmt.Printf("%s=0 failed=%d\n", what, failed)
		os.Exit(1)
	}
	slices.Sort(lat)
	fmt.Printf("%s=%d failed=%d rate=%.0f/s p50=%s p99=%s max=%s\n", what, len(lat), failed,
		float64(len(lat))/took.Seconds(), ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]))
}

func pct(d []time.Duration, p int) time.Duration {
	i := (len(d)*p+99)/100 - 1 // nearest rank
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + "ms"
}

// ua is one phone's SIP side on its own socket; it registers one account at a time.
type ua struct {
	c      *net.UDPConn
	srv    *net.UDPAddr
	domain string
	buf    [65536]byte
}

func (u *ua) registerMsg(a account, callID string, cseq int, auth string) []byte {
	local := u.c.LocalAddr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", u.domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%x;rport\r\n", local, rand.Uint64())
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%x\r\n", a.user, u.domain, rand.Uint32())
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n", a.user, u.domain, callID, cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", a.user, local)
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("Expires: 3600\r\nUser-Agent: Dialtone scaleload bench\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// register: REGISTER, 401, REGISTER with credentials, 200.
func (u *ua) register(a account) error {
	callID := fmt.Sprintf("%x@scaleload", rand.Uint64())
	res, err := u.transact(u.registerMsg(a, callID, 1, ""), 1)
	if err != nil {
		return fmt.Errorf("%s REGISTER: %w", a.user, err)
	}
	if res.StatusCode == 401 {
		auth, err := authorize(res, a, "sip:"+u.domain)
		if err != nil {
			return fmt.Errorf("%s: %w", a.user, err)
		}
		if res, err = u.transact(u.registerMsg(a, callID, 2, auth), 2); err != nil {
			return fmt.Errorf("%s REGISTER with credentials: %w", a.user, err)
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("%s REGISTER: %d %s", a.user, res.StatusCode, res.Reason)
	}
	return nil
}

func authorize(res *sip.Response, a account, uri string) (string, error) {
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil || !digest.CanDigest(chal) {
			continue
		}
		c, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: uri, Username: a.user, Password: a.pass, Count: 1})
		if err != nil {
			continue
		}
		return "Authorization: " + c.String(), nil
	}
	return "", errors.New("401 without a usable challenge")
}

// transact writes msg and returns the first final response with CSeq cseq, resending
// msg (T1 = 500 ms, doubling, at most 4 s) until it comes or 8 s pass.
func (u *ua) transact(msg []byte, cseq int) (*sip.Response, error) {
	if _, err := u.c.WriteToUDP(msg, u.srv); err != nil {
		return nil, err
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
		k, _, err := u.c.ReadFromUDP(u.buf[:])
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return nil, err
			}
			if !time.Now().Before(deadline) {
				return nil, errors.New("no answer")
			}
			u.c.WriteToUDP(msg, u.srv)
			interval = min(2*interval, 4*time.Second)
			next = time.Now().Add(interval)
			continue
		}
		m, err := sip.ParseMessage(slices.Clone(u.buf[:k]))
		if err != nil {
			continue
		}
		if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 && res.CSeq() != nil && int(res.CSeq().SeqNo) == cseq {
			return res, nil
		}
	}
}

func fetch(args []string) {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	url := fs.String("url", "", "provisioning URL prefix, ending in /p/TOKEN/")
	macs := fs.Int("macs", 1000, "how many phones (MACs from 001565000000 up)")
	conc := fs.Int("c", 32, "fetches in flight")
	ua := fs.String("ua", "Yealink SIP-T46U 108.86.0.20", "User-Agent")
	fs.Parse(args)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	var next, failed atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *conc)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(*macs) {
					return
				}
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s%012x.cfg", *url, 0x001565000000+i), nil)
				req.Header.Set("User-Agent", *ua)
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err == nil && res.StatusCode != 200 {
						err = fmt.Errorf("%s: %s", req.URL.Path, res.Status)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	report("fetches", slices.Concat(lat...), failed.Load(), time.Since(start))
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "scaleload: first failure: %v\n", e)
	}
}
