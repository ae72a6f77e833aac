package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

const seedCSV = "FirstName,LastName,Department\nAnna,de Jong,Sales\nBram,Bos,Support\n"

// TestImportUsersThroughRunningServe: with serve running on the data directory, the
// command imports through the control socket; a dry run writes nothing.
func TestImportUsersThroughRunningServe(t *testing.T) {
	e := startMain(t)
	file := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(file, []byte(seedCSV), 0o600)
	var out bytes.Buffer
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data, "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would import 2 users") {
		t.Fatalf("dry run said: %s", out.String())
	}
	var list struct{ Items []map[string]any }
	e.call("GET", "/api/v1/tenants/default/users", nil, 200, &list)
	if len(list.Items) != 1 {
		t.Fatalf("dry run wrote users: %d listed", len(list.Items))
	}
	out.Reset()
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	e.call("GET", "/api/v1/tenants/default/users", nil, 200, &list)
	if len(list.Items) != 3 {
		t.Fatalf("after import: %d users listed, want 3", len(list.Items))
	}
	// A file with one bad row (no last name) fails whole and writes nothing.
	os.WriteFile(file, []byte(seedCSV+"Cees,,Sales\n"), 0o600)
	out.Reset()
	err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data}, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "line 4") {
		t.Fatalf("bad row: err=%v out=%s", err, out.String())
	}
	e.call("GET", "/api/v1/tenants/default/users", nil, 200, &list)
	if len(list.Items) != 3 {
		t.Fatalf("a failed import wrote users: %d listed", len(list.Items))
	}
}

// TestImportUsersOffline bootstraps an empty data directory and imports into it directly.
func TestImportUsersOffline(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(file, []byte(seedCSV), 0o600)
	var out bytes.Buffer
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	st.View(func(tx *store.Tx) error {
		us, err := tx.Users(store.DefaultTenant, "", 0)
		n = len(us)
		return err
	})
	if n != 3 { // the bootstrap owner and two imported
		t.Fatalf("%d users after offline import, want 3", n)
	}
	if err := importUsersCommand([]string{file, "--data", data}, &out, io.Discard); err == nil {
		t.Error("import without --tenant accepted")
	}
}

// TestImportUsersTwiceThroughRunningServe: the second import of one file creates nobody
// and warns per row; --on-duplicate create makes the people again.
func TestImportUsersTwiceThroughRunningServe(t *testing.T) {
	e := startMain(t)
	file := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(file, []byte(seedCSV), 0o600)
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "warning: line 2, column LastName: matches existing user Anna de Jong") ||
		!strings.Contains(out.String(), "2 rows matched existing people: 2 skipped") {
		t.Fatalf("second import said:\n%s", out.String())
	}
	var list struct{ Items []map[string]any }
	e.call("GET", "/api/v1/tenants/default/users", nil, 200, &list)
	if len(list.Items) != 3 {
		t.Fatalf("after two imports: %d users, want 3", len(list.Items))
	}
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data, "--on-duplicate", "create"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	e.call("GET", "/api/v1/tenants/default/users", nil, 200, &list)
	if len(list.Items) != 5 {
		t.Fatalf("after --on-duplicate create: %d users, want 5", len(list.Items))
	}
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data, "--on-duplicate", "merge"}, io.Discard, io.Discard); err == nil {
		t.Fatal("--on-duplicate merge accepted")
	}
}
