package testkit

import (
	"testing"
	"time"
)

func TestEventuallyReturnsOnceTrue(t *testing.T) {
	t.Parallel()
	calls := 0
	start := time.Now()
	Eventually(t, time.Second, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("took %v", d)
	}
}

// recorder is a testing.TB whose Fatalf is recorded (and ends the goroutine, as the
// real one does).
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func TestEventuallyFailsAtTheDeadline(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	start := time.Now()
	func() {
		defer func() {
			if v := recover(); v != r {
				t.Fatalf("recovered %v, want the recorder's Fatalf", v)
			}
		}()
		Eventually(r, 50*time.Millisecond, "never", func() bool { return false })
	}()
	if r.failed == "" {
		t.Fatal("no failure at the deadline")
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Fatalf("failed after %v, want just past 50ms", d)
	}
}
