package testkit

import (
	"testing"
	"time"
)

// Eventually calls cond until it reports true and fails the test, naming what it waited
// for, if timeout passes first. It polls often at first (1 ms) and less as the wait
// grows (up to 20 ms), so a condition met at once costs nothing and a slow one does not
// spin. cond runs on the test's goroutine: it may call t.Fatal.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}
