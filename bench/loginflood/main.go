// Command loginflood floods a running Dialtone with wrong-password admin logins for one
// account, each from its own loopback address (on Linux all of 127/8 is local, so the
// client socket binds 127.1.x.y), all at once. Meanwhile it polls /healthz from
// 127.0.0.1 and, once the flood is in flight, logs in with the right password from an
// address of its own. It prints the figures and, with -check, exits 1 when one misses
// its goal:
//
//   - every flood request answered 401, 429 or 503, the slowest within -max-answer (5 s)
//
//   - /healthz answered within -max-healthz (100 ms) throughout
//
//   - the server's peak RSS (VmHWM of -pid) below -max-rss-mb (400)
//
//   - the right password logs in (status 200)
//
//     loginflood -target 127.0.0.1:8080 -account a@b.c [-n 800] [-good-password P] [-pid PID] [-check]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	target     = flag.String("target", "127.0.0.1:8080", "Dialtone HTTP address")
	n          = flag.Int("n", 800, "concurrent wrong-password logins, each from its own address")
	account    = flag.String("account", "", "email of the account under attack")
	goodEmail  = flag.String("good-email", "", "email that logs in with -good-password during the flood (default -account)")
	goodPW     = flag.String("good-password", "", "the right password; empty skips the good login")
	goodSource = flag.String("good-source", "127.0.0.1", "address the good login comes from")
	goodAfter  = flag.Duration("good-after", 50*time.Millisecond, "when the good login starts, after the flood's")
	goodTries  = flag.Int("good-tries", 3, "tries of the good login, each after the Retry-After of a 429")
	pid        = flag.Int("pid", 0, "server process, for its peak RSS (VmHWM); 0 skips it")
	waitFor    = flag.Duration("timeout", 30*time.Second, "how long a request may take before it counts as unanswered")
	check      = flag.Bool("check", false, "exit 1 when a goal is missed")
	maxAnswer  = flag.Duration("max-answer", 5*time.Second, "goal: slowest flood answer")
	maxHealthz = flag.Duration("max-healthz", 100*time.Millisecond, "goal: slowest /healthz during the flood")
	maxRSS     = flag.Int("max-rss-mb", 400, "goal: the server's peak RSS in MB")
	pollOnly   = flag.Bool("healthz-poller", false, "internal: poll /healthz until stdin closes, then print the figures")
)

// client makes requests from src only, one connection per request.
func client(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: *waitFor}
	return &http.Client{Timeout: *waitFor, Transport: &http.Transport{
		DialContext: d.DialContext, DisableKeepAlives: true, MaxIdleConnsPerHost: -1,
	}}
}

func login(c *http.Client, email, pw string) (int, time.Duration, error) {
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)
	start := time.Now()
	resp, err := c.Post("http://"+*target+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, time.Since(start), err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// loginRetry is login answering also the Retry-After of a 429.
func loginRetry(c *http.Client, email, pw string) (int, time.Duration, error) {
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)
	resp, err := c.Post("http://"+*target+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(max(secs, 1)) * time.Second, nil
}

// floodSource is the i-th flood address: 127.1.0.1, 127.1.0.2, … (never .0 or .255).
func floodSource(i int) string {
	return fmt.Sprintf("127.1.%d.%d", i/250, i%250+1)
}

// vmHWM reads the peak resident set of pid in kB.
func vmHWM(pid int) (int, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// startPoller runs this program again as the /healthz poller.
func startPoller() (*exec.Cmd, io.Reader, io.WriteCloser, error) {
	cmd := exec.Command(os.Args[0], "-healthz-poller", "-target", *target, "-timeout", waitFor.String())
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, out, in, nil
}

// pollHealthz asks /healthz from 127.0.0.1 on one kept-alive connection every 20 ms
// until stdin closes, then prints: polls, failures, slowest (a Go duration in ns).
func pollHealthz() {
	stop := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stop) }()
	var (
		slowest time.Duration
		polls   int
		fails   int
	)
	hc := &http.Client{Timeout: *waitFor}
	for {
		start := time.Now()
		resp, err := hc.Get("http://" + *target + "/healthz")
		d := time.Since(start)
		if err != nil || resp.StatusCode != 200 {
			fails++
		}
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		polls++
		slowest = max(slowest, d)
		select {
		case <-stop:
			fmt.Println(polls, fails, int64(slowest))
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func main() {
	flag.Parse()
	if *pollOnly {
		pollHealthz()
		return
	}
	if *account == "" {
		fmt.Fprintln(os.Stderr, "loginflood: -account is required")
		os.Exit(2)
	}
	if *goodEmail == "" {
		*goodEmail = *account
	}
	var missed []string
	rssBefore := 0
	if *pid > 0 {
		kb, err := vmHWM(*pid)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loginflood:", err)
			os.Exit(2)
		}
		rssBefore = kb
	}

	// /healthz is polled by a process of its own, so the flood's goroutines here do not
	// delay the poller and its figures are the server's.
	poller, pollerOut, pollerIn, err := startPoller()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loginflood: healthz poller:", err)
		os.Exit(2)
	}

	type result struct {
		code int
		d    time.Duration
		err  error
	}
	results := make([]result, *n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range *n {
		c := client(floodSource(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			code, d, err := login(c, *account, "wrong password, flood")
			results[i] = result{code, d, err}
		}()
	}
	var (
		goodCode     int
		goodD        time.Duration
		goodErr      error
		goodAttempts int
		goodDone     = make(chan struct{})
	)
	start := time.Now()
	close(gate)
	if *goodPW != "" {
		go func() {
			defer close(goodDone)
			time.Sleep(*goodAfter)
			c := client(*goodSource)
			t0 := time.Now()
			for goodAttempts = 1; ; goodAttempts++ {
				var wait time.Duration
				goodCode, wait, goodErr = loginRetry(c, *goodEmail, *goodPW)
				if goodErr != nil || goodCode != 429 || goodAttempts >= *goodTries {
					break
				}
				time.Sleep(wait)
			}
			goodD = time.Since(t0)
		}()
	} else {
		close(goodDone)
	}
	wg.Wait()
	floodTime := time.Since(start)
	<-goodDone
	pollerIn.Close()
	var healthN, healthFails int
	var healthMax time.Duration
	fmt.Fscan(pollerOut, &healthN, &healthFails, &healthMax)
	poller.Wait()

	codes := map[string]int{}
	var slowest time.Duration
	var durs []time.Duration
	unanswered := 0
	for _, r := range results {
		if r.err != nil {
			codes["no answer"]++
			unanswered++
			continue
		}
		codes[strconv.Itoa(r.code)]++
		slowest = max(slowest, r.d)
		durs = append(durs, r.d)
		if r.code != 401 && r.code != 429 && r.code != 503 {
			missed = append(missed, fmt.Sprintf("a flood login answered %d", r.code))
		}
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	var keys []string
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, codes[k]))
	}
	fmt.Printf("flood: %d wrong-password logins for %s, each from its own address, in %v\n", *n, *account, floodTime.Round(time.Millisecond))
	fmt.Printf("answers: %s\n", strings.Join(parts, " "))
	if len(durs) > 0 {
		fmt.Printf("answer time: p50 %v, max %v\n", durs[len(durs)/2].Round(time.Millisecond), slowest.Round(time.Millisecond))
	}
	if unanswered > 0 {
		missed = append(missed, fmt.Sprintf("%d flood logins got no answer within %v", unanswered, *waitFor))
	}
	if slowest > *maxAnswer {
		missed = append(missed, fmt.Sprintf("slowest answer %v > %v", slowest.Round(time.Millisecond), *maxAnswer))
	}
	fmt.Printf("healthz: %d polls, max %v, %d failed\n", healthN, healthMax.Round(time.Millisecond), healthFails)
	if healthMax > *maxHealthz || healthFails > 0 {
		missed = append(missed, fmt.Sprintf("healthz max %v (goal %v), %d failed", healthMax.Round(time.Millisecond), *maxHealthz, healthFails))
	}
	if *pid > 0 {
		kb, err := vmHWM(*pid)
		if err != nil {
			fmt.Println("peak RSS: server gone:", err)
			missed = append(missed, "server gone")
		} else {
			fmt.Printf("peak RSS (VmHWM): %d MB (before the flood %d MB)\n", kb/1024, rssBefore/1024)
			if kb/1024 >= *maxRSS {
				missed = append(missed, fmt.Sprintf("peak RSS %d MB >= %d MB", kb/1024, *maxRSS))
			}
		}
	}
	if *goodPW != "" {
		if goodErr != nil {
			fmt.Printf("good login from %s: no answer: %v\n", *goodSource, goodErr)
			missed = append(missed, "good login got no answer")
		} else {
			fmt.Printf("good login (%s) from %s: %d in %v, %d tries\n", *goodEmail, *goodSource, goodCode, goodD.Round(time.Millisecond), goodAttempts)
			if goodCode != 200 {
				missed = append(missed, fmt.Sprintf("good login answered %d", goodCode))
			}
		}
	}
	if len(missed) > 0 {
		fmt.Println("goals missed:", strings.Join(missed, "; "))
		if *check {
			os.Exit(1)
		}
		return
	}
	fmt.Println("goals met")
}
