package calllog

import (
	"strconv"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/sip"
)

// BenchmarkCallSteps: what one call's four steps cost the proxy's goroutine (the
// writer runs beside it; the records land in the store).
func BenchmarkCallSteps(b *testing.B) {
	s := openStore(b)
	l, err := New(Config{Store: s, Queue: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	run(b, l)
	t0 := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e := call("bench-"+strconv.Itoa(i)+"@x", t0)
		l.CallEvent(step(e, sip.CallStarted, t0, nil, 0))
		l.CallEvent(step(e, sip.CallRinging, t0, []string{"0004f2aa0001"}, 0))
		l.CallEvent(step(e, sip.CallAnswered, t0, []string{"0004f2aa0001"}, 0))
		l.CallEvent(step(e, sip.CallEnded, t0, nil, 200))
	}
	b.StopTimer()
	testkit.Eventually(b, 30*time.Second, "records written", func() bool {
		st := l.Stats()
		return st.Written+st.Dropped >= uint64(b.N)
	})
	if st := l.Stats(); st.Dropped > 0 {
		b.ReportMetric(float64(st.Dropped), "dropped")
	}
}
