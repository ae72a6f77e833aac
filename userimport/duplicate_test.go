package userimport

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

func importWith(t *testing.T, st *store.Store, csv string, dry bool, onDup OnDuplicate) (Result, error) {
	t.Helper()
	return Import(st, store.DefaultTenant, strings.NewReader(csv), Options{DryRun: dry, OnDuplicate: onDup, Actor: Actor{Source: "test"}})
}

func userCount(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	st.View(func(tx *store.Tx) error {
		us, err := tx.Users(store.DefaultTenant, "", 0)
		n = len(us)
		return err
	})
	return n
}

// TestImportTwiceSkipsExistingPeople: the same file imported twice creates nobody the
// second time, and says so per row, in the dry run and in the real one.
func TestImportTwiceSkipsExistingPeople(t *testing.T) {
	st := openStore(t)
	csv := "FirstName,LastName,Email,Department\nAnn,Smith,ann@x.test,Sales\nBram,Jansen,,Support\n"
	mustImport(t, st, csv)
	n := userCount(t, st)
	for _, dry := range []bool{true, false} {
		res, err := importWith(t, st, csv, dry, "")
		if err != nil {
			t.Fatalf("dry=%v: %v %v", dry, err, res.Errors)
		}
		if len(res.Users) != 0 || len(res.Duplicates) != 2 {
			t.Fatalf("dry=%v: users %v duplicates %v", dry, res.Users, res.Duplicates)
		}
		if !hasIssue(res.Warnings, 2, "Email", "matches existing user Ann Smith") || !hasIssue(res.Warnings, 2, "Email", "skipped") ||
			!hasIssue(res.Warnings, 3, "LastName", "matches existing user Bram Jansen") {
			t.Errorf("dry=%v: warnings %v", dry, res.Warnings)
		}
		if res.Duplicates[0].MatchedBy != "email" || res.Duplicates[1].MatchedBy != "name" || res.Duplicates[1].Action != "skipped" {
			t.Errorf("duplicates: %+v", res.Duplicates)
		}
	}
	if userCount(t, st) != n {
		t.Fatalf("users %d, want %d", userCount(t, st), n)
	}
}

func TestImportOnDuplicateUpdateAndCreate(t *testing.T) {
	st := openStore(t)
	mustImport(t, st, "FirstName,LastName,Email,Department\nAnn,Smith,ann@x.test,Sales\nBram,Jansen,,Support\n")
	n := userCount(t, st)
	res, err := importWith(t, st, "FirstName,LastName,Email,Department,Role\nAnnie,Smith,ann@x.test,Ops,Manager\n", false, DuplicateUpdate)
	if err != nil {
		t.Fatalf("update: %v %v", err, res.Errors)
	}
	if len(res.Duplicates) != 1 || res.Duplicates[0].Action != "updated" || !hasIssue(res.Warnings, 2, "Email", "updated") {
		t.Fatalf("update: %+v %v", res.Duplicates, res.Warnings)
	}
	var u store.User
	var dept store.Department
	st.View(func(tx *store.Tx) error {
		u, _ = tx.UserByEmail(store.DefaultTenant, "ann@x.test")
		dept, _ = tx.DepartmentByName(store.DefaultTenant, "Ops")
		return nil
	})
	if u.FirstName != "Annie" || u.Role != store.RoleManager || u.DepartmentID == "" || u.DepartmentID != dept.ID {
		t.Errorf("not updated: %+v", u)
	}
	if userCount(t, st) != n {
		t.Errorf("update created users")
	}
	// create: a name match becomes a second person, with a warning.
	res, err = importWith(t, st, "FirstName,LastName\nBram,Jansen\n", false, DuplicateCreate)
	if err != nil || len(res.Users) != 1 || !hasIssue(res.Warnings, 2, "LastName", "created another") {
		t.Fatalf("create: %v %+v %v", err, res.Users, res.Warnings)
	}
	if userCount(t, st) != n+1 {
		t.Errorf("create: users %d, want %d", userCount(t, st), n+1)
	}
	if _, ok := ParseOnDuplicate("merge"); ok {
		t.Error("merge accepted")
	}
}
