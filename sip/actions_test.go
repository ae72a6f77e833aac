package sip

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// notifyLog records the NOTIFYs fake phones got: arrival time and Event per MAC.
type notifyLog struct {
	mu     sync.Mutex
	at     []time.Time
	events map[string][]string
}

func (l *notifyLog) add(mac, event string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events == nil {
		l.events = map[string][]string{}
	}
	if event == NotifyEvent("yealink", true) || event == NotifyEvent("cisco", true) {
		l.at = append(l.at, time.Now()) // the change path's resyncs are not the action's
	}
	l.events[mac] = append(l.events[mac], event)
}

// answerNotifies answers every NOTIFY arriving on c with code (200 or a refusal) until
// the socket closes, recording what came in under mac.
func answerNotifies(t testing.TB, c *net.UDPConn, mac string, code int, log *notifyLog) {
	go func() {
		buf := make([]byte, 65536)
		for {
			c.SetReadDeadline(time.Time{})
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			m, err := sip.ParseMessage(buf[:n])
			req, ok := m.(*sip.Request)
			if err != nil || !ok || req.Method != sip.NOTIFY {
				continue
			}
			ev := ""
			if h := req.GetHeader("Event"); h != nil {
				ev = h.Value()
			}
			log.add(mac, ev)
			res := sip.NewResponseFromRequest(req, code, "Answer", nil)
			c.WriteToUDP([]byte(res.String()), from)
		}
	}()
}

// registerAs registers p on extension 201 with a +sip.instance naming mac.
func registerAs(t testing.TB, p *phone, user, mac string) {
	t.Helper()
	contact := fmt.Sprintf("Contact: <sip:%s@%s>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-%s>\"", user, p.addr(), mac)
	if res := p.register(user, contact); res == nil || res.StatusCode != 200 {
		t.Fatalf("register %s: %v", mac, res)
	}
}

func waitAction(t testing.TB, e *env, id string, done func(ActionReport) bool) ActionReport {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, ok := e.srv.Action("acme", id)
		if !ok {
			t.Fatalf("action %s gone", id)
		}
		if done(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("action %s did not finish: %+v", id, r)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// TestRebootActionPacedWithResults: a reboot of five phones over real UDP reaches each
// registered phone once with its make's reboot event, paced at the action's rate; the
// report says notified, failed (the phone refused) and no binding (never registered),
// and a fetch after the NOTIFY turns notified into fetched.
func TestRebootActionPacedWithResults(t *testing.T) {
	e := newEnv(t)
	log := &notifyLog{}
	macs := []string{"001565000001", "001565000002", "001565000003", "001565000004", "001565000005"}
	for i, mac := range macs {
		addPhone(t, e, mac, false)
		if i == 4 {
			continue // never registers
		}
		p := newPhone(t, e, e.user, e.pass, e.domain)
		registerAs(t, p, e.user, mac)
		code := 200
		if i == 3 {
			code = 603
		}
		answerNotifies(t, p.c, mac, code, log)
	}
	// A Cisco phone gets Cisco's own event.
	if err := e.st.Update(func(tx *store.Tx) error {
		p, err := tx.Phone(macs[1])
		if err != nil {
			return err
		}
		n := p
		n.Make = "cisco"
		return tx.SavePhone(p, n)
	}); err != nil {
		t.Fatal(err)
	}
	const rate = 10 // 100 ms apart
	start, err := e.srv.StartAction("acme", ActionReboot, macs, rate)
	if err != nil {
		t.Fatal(err)
	}
	if start.Counts[ActionQueued] != 5 || start.Done {
		t.Fatalf("start: %+v", start)
	}
	r := waitAction(t, e, start.ID, func(r ActionReport) bool { return r.Done })
	want := map[string]string{macs[0]: ActionNotified, macs[1]: ActionNotified, macs[2]: ActionNotified,
		macs[3]: ActionFailed, macs[4]: ActionNoBinding}
	for _, p := range r.Phones {
		if p.State != want[p.MAC] {
			t.Errorf("%s: %s (%s), want %s", p.MAC, p.State, p.Error, want[p.MAC])
		}
	}
	log.mu.Lock()
	if got := log.events[macs[0]]; !slices.Contains(got, "check-sync;reboot=true") {
		t.Errorf("yealink phone got %q", got)
	}
	if got := log.events[macs[1]]; !slices.Contains(got, "reboot") {
		t.Errorf("cisco phone got %q", got)
	}
	at := slices.Clone(log.at)
	log.mu.Unlock()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	if len(at) != 4 {
		t.Fatalf("%d reboot NOTIFYs, want 4 (one per registered phone)", len(at))
	}
	for i := 1; i < len(at); i++ {
		// 1/rate apart, less scheduling jitter on a loaded machine.
		if gap := at[i].Sub(at[i-1]); gap < 80*time.Millisecond {
			t.Errorf("NOTIFY %d came %v after the previous one, want ≥ %v", i, gap, time.Second/rate)
		}
	}
	e.srv.PhoneFetched("acme", macs[0], time.Now())
	e.srv.PhoneFetched("other", macs[2], time.Now()) // another tenant's word counts for nothing
	r, _ = e.srv.Action("acme", start.ID)
	if r.Phones[0].State != ActionFetched || r.Phones[0].Fetched == nil || r.Phones[2].State != ActionNotified {
		t.Fatalf("after the fetch: %+v", r.Phones)
	}
	if _, ok := e.srv.Action("other", start.ID); ok {
		t.Fatal("another tenant sees the action")
	}
}

// TestActionQueueBounded: a tenant's queue takes at most MaxActionQueue phones.
func TestActionQueueBounded(t *testing.T) {
	e := newEnv(t)
	macs := make([]string, MaxActionQueue+1)
	for i := range macs {
		macs[i] = fmt.Sprintf("0015650%05x", i)
	}
	if _, err := e.srv.StartAction("acme", ActionResync, macs, 1); err == nil {
		t.Fatal("an action over the queue's bound was accepted")
	}
	if _, err := e.srv.StartAction("acme", "explode", macs[:1], 1); err == nil {
		t.Fatal("an unknown action was accepted")
	}
}

// BenchmarkResyncThousandPhones measures a resync of 1,000 registered phones at the
// default pace (store.DefaultActionRate phones per second): 1,000 users, each with a
// phone whose binding is registered over UDP from one socket that answers every NOTIFY
// with 200, then StartAction until every phone is answered. Run with
// -bench ResyncThousand -benchtime 1x; it reports the time and asserts none
// (1,000 / rate is the floor).
func BenchmarkResyncThousandPhones(b *testing.B) {
	const n = 1000
	e := newEnv(b)
	macs := make([]string, n)
	users := make([]string, n)
	err := e.st.Update(func(tx *store.Tx) error {
		for i := range macs {
			u, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "U", LastName: fmt.Sprint(i), Role: store.RoleUser,
				Extensions: []string{fmt.Sprint(5000 + i)}})
			if err != nil {
				return err
			}
			macs[i] = fmt.Sprintf("0015651%05x", i)
			if _, err := tx.CreatePhone(store.Phone{MAC: macs[i], Tenant: "acme", Model: "T46U", UserID: u.ID}); err != nil {
				return err
			}
			users[i] = fmt.Sprint(5000 + i)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	t := &testing.T{}
	for i, mac := range macs {
		ext, err := e.st.Extension("acme", users[i])
		if err != nil {
			b.Fatal(err)
		}
		pw, _ := e.st.SIPPassword(ext)
		p := &phone{t: t, c: c, srv: e.udpAddr(), user: ext.SIPUsername, pass: pw, domain: e.domain,
			callID: fmt.Sprintf("bench-%d@phone", i), ua: "Yealink SIP-T46U 108.86.0.20"}
		contact := fmt.Sprintf("Contact: <sip:%s@%s>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-%s>\"", ext.SIPUsername, p.addr(), mac)
		if res := p.register(ext.SIPUsername, contact); res == nil || res.StatusCode != 200 {
			b.Fatalf("register %s: %v", mac, res)
		}
	}
	log := &notifyLog{}
	answerNotifies(b, c, "all", 200, log)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		r, err := e.srv.StartAction("acme", ActionResync, macs, 0)
		if err != nil {
			b.Fatal(err)
		}
		for !r.Done {
			time.Sleep(20 * time.Millisecond)
			r, _ = e.srv.Action("acme", r.ID)
		}
		took := time.Since(start)
		b.ReportMetric(took.Seconds(), "s/1000phones")
		b.Logf("resync of %d phones at %d/s: %v (floor %v); %v", n, r.Rate, took, time.Duration(n)*time.Second/time.Duration(r.Rate), r.Counts)
	}
}
