package admin

import (
	"testing"

	"github.com/dialtone/dialtone/store"
)

// max_calls and max_calls_per_user: shown with their defaults, set by PATCH, 0 puts the
// default back, a negative or huge value is 400 naming the field and changes nothing.
func TestCallLimitsSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	got := e.must(200, admin, "GET", "/api/v1/tenants/default", nil).json(t)
	if got["max_calls"] != float64(store.DefaultMaxCalls) || got["max_calls_per_user"] != float64(store.DefaultMaxCallsPerUser) {
		t.Errorf("defaults: max_calls %v, max_calls_per_user %v", got["max_calls"], got["max_calls_per_user"])
	}
	got = e.must(200, admin, "PATCH", "/api/v1/tenants/default", map[string]int{"max_calls": 40, "max_calls_per_user": 2}).json(t)
	if got["max_calls"] != float64(40) || got["max_calls_per_user"] != float64(2) {
		t.Errorf("after PATCH: %v %v", got["max_calls"], got["max_calls_per_user"])
	}
	for _, f := range []string{"max_calls", "max_calls_per_user"} {
		for _, bad := range []int{-1, store.MaxMaxCalls + 1} {
			if a := e.do(admin, "PATCH", "/api/v1/tenants/default", map[string]int{f: bad}); a.status != 400 || a.errField() != f {
				t.Errorf("%s %d: %d %s", f, bad, a.status, a.body)
			}
		}
	}
	tn, _ := e.st.Tenant("default")
	if tn.MaxCalls != 40 || tn.MaxCallsPerUser != 2 {
		t.Errorf("stored: %d %d", tn.MaxCalls, tn.MaxCallsPerUser)
	}
	got = e.must(200, admin, "PATCH", "/api/v1/tenants/default", map[string]int{"max_calls": 0}).json(t)
	if got["max_calls"] != float64(store.DefaultMaxCalls) {
		t.Errorf("max_calls 0: %v, want the default", got["max_calls"])
	}
}
