package crash

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/internal/testkit"
)

func TestRecoverLogsOnceWithStackAndCounts(t *testing.T) {
	t.Parallel()
	var buf testkit.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	before := Count("test-recover")
	answered := false
	func() {
		defer RecoverWith(log, "test-recover", "request", func() { answered = true })
		var s []int
		_ = s[len(s)] // an index out of range: a runtime panic
	}()
	if !answered || Count("test-recover") != before+1 {
		t.Fatalf("answered %v, counted %d", answered, Count("test-recover")-before)
	}
	out := buf.String()
	if strings.Count(out, "panic recovered") != 1 || !strings.Contains(out, "crash_test.go") ||
		!strings.Contains(out, "index out of range") {
		t.Fatalf("log: %s", out)
	}
	if Counts()["test-recover"] != float64(before+1) {
		t.Fatalf("Counts: %v", Counts())
	}
}

func TestRestartRunsTheLoopAgain(t *testing.T) {
	t.Parallel()
	runs := 0
	Restart(slog.New(slog.DiscardHandler), "test-restart", "loop", func() {
		runs++
		if runs == 1 {
			panic("first round fails")
		}
	})
	if runs != 2 || Count("test-restart") != 1 {
		t.Fatalf("runs %d, panics %d", runs, Count("test-restart"))
	}
}
