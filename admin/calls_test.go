package admin

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

type callPage struct {
	Items      []store.CallRecord `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

func (e *env) calls(token, path string) callPage {
	e.t.Helper()
	a := e.must(200, token, "GET", path, nil)
	var p callPage
	if err := json.Unmarshal(a.body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func callIDs(p callPage) []string {
	var out []string
	for _, c := range p.Items {
		out = append(out, c.CallID)
	}
	return out
}

func TestCallHistoryAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tenant("other")
	sales, support := e.dept("default", "Sales"), e.dept("default", "Support")
	alice := e.user("default", store.RoleUser, sales)
	bob := e.user("default", store.RoleUser, support)
	carol := e.user("default", store.RoleUser, support)
	salesManager := e.user("default", store.RoleManager, sales)
	stranger := e.user("other", store.RoleSystemOwner, "")
	base := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	put := func(n int, caller, callee store.User, at time.Time, result string) {
		err := e.st.Update(func(tx *store.Tx) error {
			return tx.PutCallRecord(store.CallRecord{Tenant: "default", CallID: fmt.Sprintf("c%d", n),
				Caller: store.CallParty{UserID: caller.ID, Number: "201"}, Callee: store.CallParty{UserID: callee.ID, Number: "202"},
				Route: "internal", Start: at, End: at.Add(time.Minute), Result: result, Code: 200})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(1, alice, bob, base, store.CallAnswered)                      // sales → support
	put(2, bob, carol, base.Add(time.Hour), store.CallBusy)           // support only
	put(3, carol, alice, base.Add(24*time.Hour), store.CallAnswered)  // support → sales, next day
	put(4, bob, carol, base.Add(25*time.Hour), store.CallNoAnswer)    // support only
	put(5, alice, carol, base.Add(26*time.Hour), store.CallCancelled) // sales → support
	admin := e.adminToken()

	// reports.read over the whole tenant: everything, newest first, paged.
	p := e.calls(admin, "/api/v1/tenants/default/calls?limit=2")
	if fmt.Sprint(callIDs(p)) != "[c5 c4]" || p.NextCursor == "" {
		t.Fatalf("first page: %v next %q", callIDs(p), p.NextCursor)
	}
	p = e.calls(admin, "/api/v1/tenants/default/calls?limit=2&cursor="+p.NextCursor)
	if fmt.Sprint(callIDs(p)) != "[c3 c2]" {
		t.Fatalf("second page: %v", callIDs(p))
	}
	// Filters: a date in the tenant's zone (to includes that day), a result, a user.
	if got := callIDs(e.calls(admin, "/api/v1/tenants/default/calls?from=2026-12-02&to=2026-12-02")); fmt.Sprint(got) != "[c2 c1]" {
		t.Errorf("calls of 2 December: %v", got)
	}
	if got := callIDs(e.calls(admin, "/api/v1/tenants/default/calls?from=2026-12-03T09:30:00Z")); fmt.Sprint(got) != "[c5 c4]" {
		t.Errorf("calls from 09:30 on the 3rd: %v", got)
	}
	if got := callIDs(e.calls(admin, "/api/v1/tenants/default/calls?result=answered")); fmt.Sprint(got) != "[c3 c1]" {
		t.Errorf("answered calls: %v", got)
	}
	if got := callIDs(e.calls(admin, "/api/v1/tenants/default/calls?user="+alice.ID)); fmt.Sprint(got) != "[c5 c3 c1]" {
		t.Errorf("alice's calls: %v", got)
	}

	// A manager of Sales reads the calls touching Sales, not Support's among themselves.
	mgr := e.session(salesManager)
	if got := callIDs(e.calls(mgr, "/api/v1/tenants/default/calls")); fmt.Sprint(got) != "[c5 c3 c1]" {
		t.Errorf("the Sales manager sees %v", got)
	}
	if a := e.do(mgr, "GET", "/api/v1/tenants/default/calls?user="+bob.ID, nil); a.status != 403 {
		t.Errorf("the Sales manager filtering on Support's bob: %d %s", a.status, a.body)
	}

	// Everyone else: their own calls only, on both routes.
	b := e.session(bob)
	if got := callIDs(e.calls(b, "/api/v1/tenants/default/calls")); fmt.Sprint(got) != "[c4 c2 c1]" {
		t.Errorf("bob sees %v", got)
	}
	if got := callIDs(e.calls(b, "/api/v1/me/calls?result=busy")); fmt.Sprint(got) != "[c2]" {
		t.Errorf("bob's busy calls: %v", got)
	}
	if a := e.do(b, "GET", "/api/v1/tenants/default/calls?user="+carol.ID, nil); a.status != 403 {
		t.Errorf("bob asking for carol's calls: %d %s", a.status, a.body)
	}

	// Another tenant's owner learns nothing of this tenant; their own tenant has no calls.
	so := e.session(stranger)
	if a := e.do(so, "GET", "/api/v1/tenants/default/calls", nil); a.status != 404 {
		t.Errorf("another tenant's owner: %d %s", a.status, a.body)
	}
	if got := e.calls(so, "/api/v1/tenants/other/calls"); len(got.Items) != 0 {
		t.Errorf("tenant other lists %v", callIDs(got))
	}

	// Hostile filters get the error shape naming the field.
	for q, field := range map[string]string{
		"result=won": "result", "from=yesterday": "from", "to=2026-13-01": "to",
		"user=../x": "user", "from=2026-12-03&to=2026-12-02": "to", "cursor=a/b": "cursor",
	} {
		if a := e.do(admin, "GET", "/api/v1/tenants/default/calls?"+q, nil); a.status != 400 || a.errField() != field {
			t.Errorf("?%s: %d field %q, want 400 %s", q, a.status, a.errField(), field)
		}
	}
}

func TestCallHistoryDaysSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	if got := e.must(200, admin, "GET", "/api/v1/tenants/default", nil).json(t)["call_history_days"]; got != float64(store.DefaultCallHistoryDays) {
		t.Errorf("default call_history_days: %v", got)
	}
	if got := e.must(200, admin, "PATCH", "/api/v1/tenants/default", map[string]int{"call_history_days": 30}).json(t)["call_history_days"]; got != float64(30) {
		t.Errorf("after PATCH: %v", got)
	}
	for _, bad := range []int{0, -1, store.MaxCallHistoryDays + 1} {
		a := e.do(admin, "PATCH", "/api/v1/tenants/default", map[string]int{"call_history_days": bad})
		if a.status != 400 || a.errField() != "call_history_days" {
			t.Errorf("call_history_days %d: %d %s", bad, a.status, a.body)
		}
	}
	tn, _ := e.st.Tenant("default")
	if tn.CallHistoryDays != 30 {
		t.Errorf("stored: %d", tn.CallHistoryDays)
	}
}
