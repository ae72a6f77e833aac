package calllog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, _, err := s.Bootstrap("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t testing.TB, l *Log) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func calls(t *testing.T, s *store.Store, q store.CallQuery) []store.CallRecord {
	t.Helper()
	var out []store.CallRecord
	err := s.View(func(tx *store.Tx) (err error) { out, err = tx.Calls(store.DefaultTenant, q); return err })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// call is one internal call from 201 (user u-201) to 202 (user u-202).
func call(id string, at time.Time) sip.CallEvent {
	return sip.CallEvent{
		Tenant: store.DefaultTenant, CallID: id, At: at,
		Caller: sip.Caller{Tenant: store.DefaultTenant, Username: "sip201", Extension: "201", UserID: "u-201"},
		From:   "201", To: "202",
		Route: sip.Route{Kind: sip.RouteInternal, AORs: []string{"sip202"}, UserID: "u-202", Extension: "202"},
	}
}

func step(e sip.CallEvent, k sip.CallEventKind, at time.Time, phones []string, code int) sip.CallEvent {
	e.Kind, e.At, e.Phones, e.Code = k, at, phones, code
	return e
}

func TestRecordsEachCallsSteps(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	l, err := New(Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	a := call("answered@x", t0)
	l.CallEvent(step(a, sip.CallStarted, t0, nil, 0))
	l.CallEvent(step(a, sip.CallRinging, t0.Add(time.Second), []string{"0004f2aa0001"}, 0))
	l.CallEvent(step(a, sip.CallRinging, t0.Add(time.Second), []string{"0004f2aa0002"}, 0))
	l.CallEvent(step(a, sip.CallAnswered, t0.Add(3*time.Second), []string{"0004f2aa0002"}, 0))
	b := call("busy@x", t0.Add(time.Minute))
	l.CallEvent(step(b, sip.CallStarted, b.At, nil, 0))
	l.CallEvent(step(b, sip.CallEnded, b.At.Add(time.Second), nil, 486))
	c := call("cancelled@x", t0.Add(2*time.Minute))
	l.CallEvent(step(c, sip.CallStarted, c.At, nil, 0))
	l.CallEvent(step(c, sip.CallRinging, c.At, []string{"0004f2aa0002"}, 0))
	l.CallEvent(step(c, sip.CallEnded, c.At.Add(5*time.Second), nil, 487))
	l.CallEvent(step(a, sip.CallEnded, t0.Add(10*time.Minute), nil, 200))

	testkit.Eventually(t, 5*time.Second, "three records written", func() bool { return l.Stats().Written == 3 })
	got := calls(t, s, store.CallQuery{})
	if len(got) != 3 {
		t.Fatalf("%d records", len(got))
	}
	// Newest start first: cancelled, busy, answered.
	want := []struct{ id, result string }{{"cancelled@x", "cancelled"}, {"busy@x", "busy"}, {"answered@x", "answered"}}
	for i, w := range want {
		if got[i].CallID != w.id || got[i].Result != w.result {
			t.Errorf("record %d: %s %s, want %s %s", i, got[i].CallID, got[i].Result, w.id, w.result)
		}
	}
	r := got[2]
	if r.Caller != (store.CallParty{UserID: "u-201", Extension: "201", Number: "201"}) ||
		r.Callee != (store.CallParty{UserID: "u-202", Extension: "202", Number: "202"}) || r.Route != "internal" {
		t.Errorf("parties: %+v → %+v via %s", r.Caller, r.Callee, r.Route)
	}
	if !r.Start.Equal(t0) || !r.Answer.Equal(t0.Add(3*time.Second)) || !r.End.Equal(t0.Add(10*time.Minute)) || r.Code != 200 {
		t.Errorf("times: %v %v %v code %d", r.Start, r.Answer, r.End, r.Code)
	}
	if fmt.Sprint(r.Rang) != "[0004f2aa0001 0004f2aa0002]" || fmt.Sprint(r.AnsweredBy) != "[0004f2aa0002]" {
		t.Errorf("rang %v, answered by %v", r.Rang, r.AnsweredBy)
	}
	if !got[0].Answer.IsZero() || fmt.Sprint(got[0].Rang) != "[0004f2aa0002]" {
		t.Errorf("the cancelled call: answer %v, rang %v", got[0].Answer, got[0].Rang)
	}
	if mine := calls(t, s, store.CallQuery{User: "u-202"}); len(mine) != 3 {
		t.Errorf("the callee's history lists %d calls", len(mine))
	}
	if st := l.Stats(); st.InFlight != 0 || st.Dropped != 0 {
		t.Errorf("stats after the calls: %+v", st)
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	l, err := New(Config{Store: s, Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i := range 5 { // the writer is not running yet: CallEvent must not wait for it
		e := call(fmt.Sprintf("c%d@x", i), t0)
		l.CallEvent(step(e, sip.CallEnded, t0, nil, 480))
	}
	if st := l.Stats(); st.Dropped != 3 {
		t.Fatalf("dropped %d, want 3", st.Dropped)
	}
	run(t, l)
	testkit.Eventually(t, 5*time.Second, "the queued two written", func() bool { return l.Stats().Written == 2 })
	for _, r := range calls(t, s, store.CallQuery{}) {
		if r.Result != store.CallNoAnswer || !r.Start.Equal(r.End) {
			t.Errorf("a call known from its end only: %+v", r)
		}
	}
}

func TestInFlightTableIsBounded(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	l, err := New(Config{Store: s, MaxInFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	t0 := time.Now()
	for i := range 3 {
		l.CallEvent(step(call(fmt.Sprintf("c%d@x", i), t0), sip.CallStarted, t0, nil, 0))
	}
	if st := l.Stats(); st.InFlight != 2 || st.Untracked != 1 {
		t.Fatalf("stats: %+v", st)
	}
	// A call older than StaleAfter makes room when the table is full.
	later := t0.Add(StaleAfter + time.Hour)
	l.CallEvent(step(call("new@x", later), sip.CallStarted, later, nil, 0))
	if st := l.Stats(); st.InFlight != 1 || st.Untracked != 1 {
		t.Fatalf("stale calls not dropped: %+v", st)
	}
	l.CallEvent(step(call("c2@x", t0), sip.CallEnded, t0.Add(time.Minute), nil, 503))
	testkit.Eventually(t, 5*time.Second, "the untracked call recorded at its end", func() bool { return l.Stats().Written == 1 })
	if r := calls(t, s, store.CallQuery{}); len(r) != 1 || r[0].Result != store.CallFailed || r[0].Code != 503 {
		t.Errorf("record: %+v", r)
	}
}

func TestResult(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		answered bool
		code     int
		want     string
	}{
		{true, 200, "answered"}, {false, 200, "answered"}, {true, 487, "answered"},
		{false, 486, "busy"}, {false, 600, "busy"}, {false, 480, "no_answer"}, {false, 408, "no_answer"},
		{false, 487, "cancelled"}, {false, 404, "failed"}, {false, 503, "failed"}, {false, 0, "failed"},
	} {
		if got := Result(c.answered, c.code); got != c.want {
			t.Errorf("Result(%v, %d) = %s, want %s", c.answered, c.code, got, c.want)
		}
	}
}
