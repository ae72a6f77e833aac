package store

import (
	"fmt"
	"testing"
	"time"
)

func callAt(start time.Time, n int, caller, callee, result string) CallRecord {
	return CallRecord{
		Tenant: DefaultTenant, CallID: fmt.Sprintf("call-%d@host", n),
		Caller: CallParty{UserID: caller, Extension: "201", Number: "201"},
		Callee: CallParty{UserID: callee, Extension: "202", Number: "202"},
		Route:  "internal", Start: start, End: start.Add(time.Minute), Result: result, Code: 200,
	}
}

func TestCallHistoryPagesNewestFirst(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	err := s.Update(func(tx *Tx) error {
		for i := range 10 {
			who := "u-a"
			if i%2 == 1 {
				who = "u-b"
			}
			res := CallAnswered
			if i%3 == 0 {
				res = CallBusy
			}
			// Written out of order: a long call ends after a short one that began later.
			if err := tx.PutCallRecord(callAt(base.Add(time.Duration(9-i)*time.Minute), 9-i, who, "u-c", res)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []CallRecord
	cursor := ""
	for {
		var page []CallRecord
		err := s.View(func(tx *Tx) (err error) {
			page, err = tx.Calls(DefaultTenant, CallQuery{Cursor: cursor, Limit: 3})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 3 {
			break
		}
		cursor = page[len(page)-1].ID
	}
	if len(all) != 10 {
		t.Fatalf("paged %d calls, want 10", len(all))
	}
	for i, c := range all {
		if want := fmt.Sprintf("call-%d@host", 9-i); c.CallID != want {
			t.Fatalf("call %d is %s, want %s (newest first)", i, c.CallID, want)
		}
	}
	list := func(q CallQuery) []string {
		var out []string
		err := s.View(func(tx *Tx) error {
			cs, err := tx.Calls(DefaultTenant, q)
			for _, c := range cs {
				out = append(out, c.CallID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(CallQuery{User: "u-b"}); fmt.Sprint(got) != "[call-8@host call-6@host call-4@host call-2@host call-0@host]" {
		t.Errorf("u-b's calls: %v", got)
	}
	if got := list(CallQuery{User: "u-c", Limit: 2}); fmt.Sprint(got) != "[call-9@host call-8@host]" {
		t.Errorf("the callee's calls: %v", got)
	}
	if got := list(CallQuery{From: base.Add(3 * time.Minute), To: base.Add(6 * time.Minute)}); fmt.Sprint(got) != "[call-5@host call-4@host call-3@host]" {
		t.Errorf("from 09:03 to 09:06: %v", got)
	}
	if got := list(CallQuery{Result: CallBusy}); fmt.Sprint(got) != "[call-9@host call-6@host call-3@host call-0@host]" {
		t.Errorf("busy calls: %v", got)
	}
	if got := list(CallQuery{User: "u-a", Cursor: all[1].ID}); fmt.Sprint(got) != "[call-7@host call-5@host call-3@host call-1@host]" {
		t.Errorf("u-a's calls after the cursor: %v", got)
	}
}

func TestCallRecordRefusesHostileValues(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	base := time.Now()
	for name, c := range map[string]CallRecord{
		"no result": callAt(base, 1, "u", "v", ""),
		"ends too early": func() CallRecord {
			c := callAt(base, 2, "u", "v", CallAnswered)
			c.End = base.Add(-time.Second)
			return c
		}(),
		"slash in user": callAt(base, 3, "u/../x", "v", CallAnswered),
		"bad tenant":    func() CallRecord { c := callAt(base, 4, "u", "v", CallAnswered); c.Tenant = "../x"; return c }(),
	} {
		err := s.Update(func(tx *Tx) error { return tx.PutCallRecord(c) })
		if fieldOf(err) == "" {
			t.Errorf("%s: %v, want a field error", name, err)
		}
	}
}

func TestCallHistorySweep(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	err := s.Update(func(tx *Tx) error {
		tn, err := tx.Tenant(DefaultTenant)
		if err != nil {
			return err
		}
		next := tn
		next.CallHistoryDays = 30
		if err := tx.SaveTenant(tn, next); err != nil {
			return err
		}
		for i, age := range []int{40, 31, 29, 1} {
			if err := tx.PutCallRecord(callAt(now.Add(-time.Duration(age)*24*time.Hour), i, "u-a", "u-b", CallAnswered)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.SweepCalls(now)
	if err != nil || n != 2 {
		t.Fatalf("swept %d (%v), want 2", n, err)
	}
	err = s.View(func(tx *Tx) error {
		for _, q := range []CallQuery{{}, {User: "u-a"}, {User: "u-b"}} {
			cs, err := tx.Calls(DefaultTenant, q)
			if err != nil {
				return err
			}
			if len(cs) != 2 || cs[0].CallID != "call-3@host" || cs[1].CallID != "call-2@host" {
				t.Errorf("after the sweep %+v lists %d calls", q, len(cs))
			}
		}
		ok, err := tx.exists(userCallKey(DefaultTenant, "u-a", CallRecordID(now.Add(-40*24*time.Hour), "call-0@host")))
		if ok || err != nil {
			t.Errorf("the swept call's index entry is still there (%v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *Tx) error {
		tn, _ := tx.Tenant(DefaultTenant)
		next := tn
		next.CallHistoryDays = MaxCallHistoryDays + 1
		return tx.SaveTenant(tn, next)
	})
	if fieldOf(err) != "call_history_days" {
		t.Errorf("call_history_days over the maximum: %v", err)
	}
}

// TestCallHistoryOutlivesUser: deleting a user drops their index of calls; the calls
// stay in the tenant's history.
func TestCallHistoryOutlivesUser(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	u, _ := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "Gone", LastName: "Soon", Role: RoleUser, Extensions: []string{}})
	err := s.Update(func(tx *Tx) error {
		return tx.PutCallRecord(callAt(time.Now(), 1, u.ID, "u-other", CallAnswered))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { _, err := tx.DeleteUser(DefaultTenant, u.ID); return err }); err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		if cs, err := tx.Calls(DefaultTenant, CallQuery{User: u.ID}); err != nil || len(cs) != 0 {
			t.Errorf("the deleted user's index lists %d calls (%v)", len(cs), err)
		}
		if cs, err := tx.Calls(DefaultTenant, CallQuery{User: "u-other"}); err != nil || len(cs) != 1 {
			t.Errorf("the other party's history lists %d calls (%v)", len(cs), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
