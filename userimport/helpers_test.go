package userimport

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.Bootstrap("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	return st
}

// snapshot is what an import may change, for "nothing written" checks.
type snapshot struct {
	users, depts, exts, phones, audit int
}

func snap(t *testing.T, st *store.Store) snapshot {
	t.Helper()
	var s snapshot
	err := st.View(func(tx *store.Tx) error {
		us, err := tx.Users(store.DefaultTenant, "", 0)
		if err != nil {
			return err
		}
		ds, err := tx.Departments(store.DefaultTenant, "", 0)
		if err != nil {
			return err
		}
		es, err := tx.Extensions(store.DefaultTenant, "", 0)
		if err != nil {
			return err
		}
		ps, err := tx.Phones(store.DefaultTenant, "", 0)
		if err != nil {
			return err
		}
		ev, err := tx.AuditLog(store.DefaultTenant, store.AuditQuery{})
		s = snapshot{len(us), len(ds), len(es), len(ps), len(ev)}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, st *store.Store, csv string, dry bool) (Result, error) {
	t.Helper()
	return Import(st, store.DefaultTenant, strings.NewReader(csv), Options{DryRun: dry, Actor: Actor{Source: "test"}})
}

func mustImport(t *testing.T, st *store.Store, csv string) Result {
	t.Helper()
	res, err := run(t, st, csv, false)
	if err != nil {
		t.Fatalf("import: %v; errors %v", err, res.Errors)
	}
	return res
}

// hasIssue reports whether list holds an issue at line and column whose message contains
// part.
func hasIssue(list []Issue, line int, col, part string) bool {
	for _, is := range list {
		if is.Line == line && is.Column == col && strings.Contains(is.Message, part) {
			return true
		}
	}
	return false
}

func userByEmail(t *testing.T, st *store.Store, email string) store.User {
	t.Helper()
	var u store.User
	err := st.View(func(tx *store.Tx) (err error) { u, err = tx.UserByEmail(store.DefaultTenant, email); return err })
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

// peopleCSV writes n rows in the form of /work/shared/bench/peers/people.sh N csv.
func peopleCSV(n int) string {
	first := []string{"Anna", "Bram", "Daan", "Emma", "Femke", "Gijs", "Hanna", "Jeroen", "Karin", "Lars",
		"Maaike", "Noah", "Olivia", "Pieter", "Roos", "Sanne", "Thijs", "Vera", "Willem", "Yara"}
	last := []string{"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
		"Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
		"van Leeuwen", "Dekker", "Brouwer"}
	depts := []string{"Sales", "Support", "Finance", "Logistics"}
	var b strings.Builder
	b.WriteString("FirstName,LastName,Department,Number,MobileNumber,EmailAddress\n")
	for i := 0; i < n; i++ {
		ext := 1000 + i
		fmt.Fprintf(&b, "%s,%s,%s,%d,+3161%07d,u%d@pbx.test\n", first[(i*7)%20], last[(i*13+i/20)%20],
			depts[i%4], ext, ext, ext)
	}
	return b.String()
}

func isRejected(err error) bool { return errors.Is(err, ErrRejected) }
