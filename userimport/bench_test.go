package userimport

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// TestImport10000 imports the bench's 10,000 people (the form of
// bench/peers/people.sh 10000 csv) in one transaction and logs how long it took.
func TestImport10000(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	csv := peopleCSV(10000)
	start := time.Now()
	res, err := Import(st, store.DefaultTenant, strings.NewReader(csv), Options{Actor: Actor{Source: "test"}})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("import: %v %v", err, res.Errors)
	}
	if len(res.Users) != 10000 || len(res.DepartmentsCreated) != 4 {
		t.Fatalf("%d users, %d departments", len(res.Users), len(res.DepartmentsCreated))
	}
	s := snap(t, st)
	if s.users != 10001 || s.exts != 10000 {
		t.Fatalf("store holds %+v", s)
	}
	t.Logf("10,000-row import: %v (%.0f rows/s)", elapsed, 10000/elapsed.Seconds())
}

func BenchmarkImport10000(b *testing.B) {
	csv := peopleCSV(10000)
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.Bootstrap("correct horse battery"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Import(st, store.DefaultTenant, strings.NewReader(csv), Options{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}

// TestTransactionTooLarge: a file past what one BadgerDB transaction holds (measured:
// about 23,000 rows of this shape) is refused as too large, and nothing is written.
func TestTransactionTooLarge(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	before := snap(t, st)
	res, err := Import(st, store.DefaultTenant, strings.NewReader(peopleCSV(30000)), Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "30000 rows") || len(res.Users) != 0 {
		t.Fatalf("err %v, %d users", err, len(res.Users))
	}
	if snap(t, st) != before {
		t.Error("a failed import wrote")
	}
}
