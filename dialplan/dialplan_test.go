package dialplan

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// clock is a settable store clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	st    *store.Store
	clk   *clock
	plan  *Plan
	alice store.User // 201 and 202, DID +31201110201, department "Sales"
	bob   store.User // 203, no DID
	flex  store.Phone
}

func newFixture(t *testing.T, routing store.CallRouting) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}}
	var err error
	if f.st, err = store.Open(store.Options{Dir: t.TempDir(), Now: f.clk.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	err = f.st.Update(func(tx *store.Tx) error {
		tn, err := tx.CreateTenant(store.NewTenant{Slug: "acme", Timezone: "Europe/Amsterdam", ExtMin: 200, ExtMax: 299})
		if err != nil {
			return err
		}
		next := tn
		next.EmergencyNumbers = []string{"112", "911"}
		next.CallRouting = routing
		if err := tx.SaveTenant(tn, next); err != nil {
			return err
		}
		d, err := tx.CreateDepartment("acme", store.Department{Name: "Sales", EmergencyCallerID: "+31 20 111 0999"})
		if err != nil {
			return err
		}
		if f.alice, _, err = tx.CreateUser("acme", store.NewUser{FirstName: "Alice", LastName: "Smith", DepartmentID: d.ID,
			Extensions: []string{"201", "202"}, ExternalNumbers: []string{"+31201110201"}}); err != nil {
			return err
		}
		if f.bob, _, err = tx.CreateUser("acme", store.NewUser{FirstName: "Bob", LastName: "Jones", Extensions: []string{"203"}}); err != nil {
			return err
		}
		f.flex, err = tx.CreatePhone(store.Phone{MAC: "00156501a2b3", Tenant: "acme", Flex: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.plan = New(f.st)
	return f
}

func (f *fixture) line(t *testing.T, u store.User, ext string) sip.Caller {
	t.Helper()
	e, err := f.st.Extension("acme", ext)
	if err != nil {
		t.Fatal(err)
	}
	return sip.Caller{Tenant: "acme", Username: e.SIPUsername, Extension: ext, UserID: u.ID}
}

func (f *fixture) guest() sip.Caller {
	return sip.Caller{Tenant: "acme", Username: f.flex.GuestUsername, GuestMAC: f.flex.MAC, MAC: f.flex.MAC}
}

func (f *fixture) out(t *testing.T, c sip.Caller, dialled string) sip.Route {
	t.Helper()
	r, err := f.plan.Outbound(context.Background(), c, dialled)
	if err != nil {
		t.Fatalf("Outbound(%q): %v", dialled, err)
	}
	return r
}

// lineAORs: the AORs the phones of these extensions may register, their SIP usernames
// and the numbers themselves.
func (f *fixture) lineAORs(t *testing.T, exts ...string) []string {
	var out []string
	for _, n := range exts {
		e, err := f.st.Extension("acme", n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.SIPUsername, n)
	}
	slices.Sort(out)
	return out
}

func wantRefuse(t *testing.T, r sip.Route, code int, reason string) {
	t.Helper()
	if r.Kind != sip.RouteRefuse || r.Code != code || reason != "" && r.Reason != reason {
		t.Fatalf("route = %+v, want refusal %d %q", r, code, reason)
	}
}

var nl = store.CallRouting{MainNumber: "+31201110000", MainNumberExtension: "203"}

func TestInternalRingsEveryLineOfTheUser(t *testing.T) {
	f := newFixture(t, nl)
	r := f.out(t, f.line(t, f.bob, "203"), "202")
	if r.Kind != sip.RouteInternal || r.UserID != f.alice.ID || r.Extension != "202" {
		t.Fatalf("route = %+v", r)
	}
	got := slices.Clone(r.AORs)
	slices.Sort(got)
	if want := f.lineAORs(t, "201", "202"); !slices.Equal(got, want) {
		t.Fatalf("AORs = %v, want both of Alice's lines %v", got, want)
	}
	wantRefuse(t, f.out(t, f.line(t, f.bob, "203"), "250"), 404, "number not in use")
	wantRefuse(t, f.out(t, f.line(t, f.bob, "203"), "*8"), 404, "")
	wantRefuse(t, f.out(t, f.line(t, f.bob, "203"), "alice"), 404, "")
}

func TestEmergencyFromAnyLineWithItsCallerID(t *testing.T) {
	f := newFixture(t, store.CallRouting{MainNumber: "+31201110000", EmergencyCallerID: "+31201110911", DailyOutsideCalls: 1})
	// Alice: her department's caller ID.
	r := f.out(t, f.line(t, f.alice, "201"), "112")
	if r.Kind != sip.RouteEmergency || r.Number != "112" || r.CallerID != "+31201110999" {
		t.Fatalf("alice: %+v", r)
	}
	// Bob (no department): the tenant's emergency caller ID.
	if r := f.out(t, f.line(t, f.bob, "203"), "911"); r.Kind != sip.RouteEmergency || r.CallerID != "+31201110911" {
		t.Fatalf("bob: %+v", r)
	}
	// The guest line of a flex phone with its own caller ID (its location).
	err := f.st.Update(func(tx *store.Tx) error {
		next := f.flex
		next.EmergencyCallerID = "+31201110555"
		return tx.SavePhone(f.flex, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.out(t, f.guest(), "112"); r.Kind != sip.RouteEmergency || r.CallerID != "+31201110555" {
		t.Fatalf("guest: %+v", r)
	}
	// Never refused by the cap: Bob's one outside call is used, emergency still goes.
	if r := f.out(t, f.line(t, f.bob, "203"), "0201234567"); r.Kind != sip.RouteUpstream {
		t.Fatalf("first outside call: %+v", r)
	}
	wantRefuse(t, f.out(t, f.line(t, f.bob, "203"), "0201234567"), 403, "daily outside call limit reached")
	if r := f.out(t, f.line(t, f.bob, "203"), "112"); r.Kind != sip.RouteEmergency {
		t.Fatalf("emergency over the cap: %+v", r)
	}
}

func TestGuestLineDialsOnlyEmergency(t *testing.T) {
	f := newFixture(t, nl)
	for _, n := range []string{"201", "0201234567", "+4930123456"} {
		wantRefuse(t, f.out(t, f.guest(), n), 403, "guest line: emergency calls only")
	}
}

func TestUpstreamCallerIDAndNumber(t *testing.T) {
	f := newFixture(t, nl)
	cases := []struct {
		who           sip.Caller
		dialled, want string
		cid           string
	}{
		{f.line(t, f.alice, "201"), "0201234567", "+31201234567", "+31201110201"}, // national prefix
		{f.line(t, f.alice, "202"), "0031201234567", "+31201234567", "+31201110201"},
		{f.line(t, f.bob, "203"), "+31201234567", "+31201234567", "+31201110000"}, // main number
		{f.line(t, f.bob, "203"), "14020", "14020", "+31201110000"},               // local: as dialled
	}
	for _, c := range cases {
		r := f.out(t, c.who, c.dialled)
		if r.Kind != sip.RouteUpstream || r.Number != c.want || r.CallerID != c.cid {
			t.Errorf("%s: %+v, want upstream %s from %s", c.dialled, r, c.want, c.cid)
		}
	}
}

func TestCountryRules(t *testing.T) {
	f := newFixture(t, nl)
	bob := f.line(t, f.bob, "203")
	wantRefuse(t, f.out(t, bob, "004930123456"), 403, "destination not allowed")
	wantRefuse(t, f.out(t, bob, "+8821234567"), 403, "") // satellite: premium and foreign
	wantRefuse(t, f.out(t, bob, "0906123456"), 403, "")  // Dutch premium rate
	wantRefuse(t, f.out(t, bob, "+31909123456"), 403, "")
	err := f.st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant("acme")
		if err != nil {
			return err
		}
		next := prev
		next.AllowedCountryCodes = []string{"+49"}
		next.BlockedPrefixes = []string{"+3120999"}
		return tx.SaveTenant(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.out(t, bob, "004930123456"); r.Kind != sip.RouteUpstream || r.Number != "+4930123456" {
		t.Fatalf("allowed Germany: %+v", r)
	}
	wantRefuse(t, f.out(t, bob, "0033123456789"), 403, "destination not allowed")
	wantRefuse(t, f.out(t, bob, "020999123"), 403, "")
	// A tenant without a known country reaches no E.164 number, only local ones.
	g := newFixture(t, store.CallRouting{})
	wantRefuse(t, g.out(t, g.line(t, g.bob, "203"), "+31201234567"), 403, "destination not allowed")
}

func TestDailyCapResetsAtMidnightInTheTenantsZone(t *testing.T) {
	f := newFixture(t, store.CallRouting{MainNumber: "+31201110000", DailyOutsideCalls: 2})
	bob, alice := f.line(t, f.bob, "203"), f.line(t, f.alice, "201")
	// 22:30 UTC is 23:30 in Amsterdam.
	f.clk.Set(time.Date(2026, 12, 3, 22, 30, 0, 0, time.UTC))
	for range 2 {
		if r := f.out(t, bob, "0201234567"); r.Kind != sip.RouteUpstream {
			t.Fatalf("%+v", r)
		}
	}
	wantRefuse(t, f.out(t, bob, "0201234567"), 403, "daily outside call limit reached")
	// Internal calls do not count and are not capped.
	if r := f.out(t, bob, "201"); r.Kind != sip.RouteInternal {
		t.Fatalf("%+v", r)
	}
	// Alice has her own count; her second line counts with her first.
	f.out(t, alice, "0201234567")
	f.out(t, f.line(t, f.alice, "202"), "0201234567")
	wantRefuse(t, f.out(t, alice, "0201234567"), 403, "")
	// 23:10 UTC is past midnight in Amsterdam: a new day.
	f.clk.Set(time.Date(2026, 12, 3, 23, 10, 0, 0, time.UTC))
	if r := f.out(t, bob, "0201234567"); r.Kind != sip.RouteUpstream {
		t.Fatalf("next day: %+v", r)
	}
}

func TestInbound(t *testing.T) {
	f := newFixture(t, nl)
	in := func(n string) sip.Route {
		r, err := f.plan.Inbound(context.Background(), "acme", n)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, n := range []string{"+31201110201", "31201110201", "0031201110201", "0201110201"} {
		r := in(n)
		got := slices.Clone(r.AORs)
		slices.Sort(got)
		if r.Kind != sip.RouteInternal || r.UserID != f.alice.ID || !slices.Equal(got, f.lineAORs(t, "201", "202")) {
			t.Fatalf("DID %s: %+v", n, r)
		}
	}
	if r := in("+31201110000"); r.Kind != sip.RouteInternal || r.UserID != f.bob.ID || !slices.Equal(sorted(r.AORs), f.lineAORs(t, "203")) {
		t.Fatalf("main number: %+v", r)
	}
	wantRefuse(t, in("+31201110333"), 404, "")
	wantRefuse(t, in("+31201110000;x"), 404, "")
	// Without a main_number_extension the main number is no number either.
	g := newFixture(t, store.CallRouting{MainNumber: "+31201110000"})
	if r, _ := g.plan.Inbound(context.Background(), "acme", "+31201110000"); r.Kind != sip.RouteRefuse || r.Code != 404 {
		t.Fatalf("main number without extension: %+v", r)
	}
}

func TestSettingsValidated(t *testing.T) {
	f := newFixture(t, nl)
	for _, bad := range []store.CallRouting{
		{MainNumber: "0201110000"},
		{MainNumberExtension: "0123"},
		{CountryCode: "3"},
		{CountryCode: "49", MainNumber: "+31201110000"},
		{AllowedCountryCodes: []string{"4"}},
		{BlockedPrefixes: []string{"+31x"}},
		{DailyOutsideCalls: -1},
		{NationalPrefix: "0a"},
	} {
		err := f.st.Update(func(tx *store.Tx) error {
			prev, err := tx.Tenant("acme")
			if err != nil {
				return err
			}
			next := prev
			next.CallRouting = bad
			return tx.SaveTenant(prev, next)
		})
		if err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestOwnNumbersStayInside: dialling a user's DID or the main number, in any form, rings
// here like the call from the upstream would, never counted as an outside call.
func TestOwnNumbersStayInside(t *testing.T) {
	f := newFixture(t, store.CallRouting{MainNumber: "+31201110000", MainNumberExtension: "203", DailyOutsideCalls: 1})
	bob := f.line(t, f.bob, "203")
	for _, n := range []string{"+31201110201", "0031201110201", "0201110201"} {
		r := f.out(t, bob, n)
		if r.Kind != sip.RouteInternal || r.UserID != f.alice.ID || len(r.AORs) != 4 {
			t.Fatalf("%s: %+v", n, r)
		}
	}
	if r := f.out(t, f.line(t, f.alice, "201"), "0201110000"); r.Kind != sip.RouteInternal || r.UserID != f.bob.ID {
		t.Fatalf("main number: %+v", r)
	}
	// The cap of one outside call is untouched.
	if r := f.out(t, bob, "0201234567"); r.Kind != sip.RouteUpstream {
		t.Fatalf("outside call after own numbers: %+v", r)
	}
}

// A local number (dialled without the national prefix) is checked against the premium
// and blocked prefixes as the tenant's national number: in the NANP a premium number is
// commonly dialled as ten digits, 900 first.
func TestLocalNumberIsGuarded(t *testing.T) {
	f := newFixture(t, store.CallRouting{MainNumber: "+12125550100", InternationalPrefix: "011", NationalPrefix: "1",
		BlockedPrefixes: []string{"+1212555099"}})
	bob := f.line(t, f.bob, "203")
	wantRefuse(t, f.out(t, bob, "19005551234"), 403, "destination not allowed: premium rate")
	wantRefuse(t, f.out(t, bob, "9005551234"), 403, "destination not allowed: premium rate")
	wantRefuse(t, f.out(t, bob, "9765551234"), 403, "destination not allowed: premium rate")
	wantRefuse(t, f.out(t, bob, "2125550991"), 403, "destination not allowed: premium rate")
	if r := f.out(t, bob, "2125550123"); r.Kind != sip.RouteUpstream || r.Number != "2125550123" {
		t.Fatalf("a local number: %+v", r)
	}
	// A NANP tenant that left the prefixes at their defaults ("00", "0"): 1900… is no
	// national number to it, but the upstream reads it as +1900….
	g := newFixture(t, store.CallRouting{MainNumber: "+12125550100"})
	wantRefuse(t, g.out(t, g.line(t, g.bob, "203"), "19005551234"), 403, "destination not allowed: premium rate")
	// Any tenant: a number that is an international premium one without its "+".
	h := newFixture(t, nl)
	wantRefuse(t, h.out(t, h.line(t, h.bob, "203"), "9791234567"), 403, "destination not allowed: premium rate")
	if r := h.out(t, h.line(t, h.bob, "203"), "14020"); r.Kind != sip.RouteUpstream {
		t.Fatalf("a local short number: %+v", r)
	}
}

// Routing reads the store once per caller and number (cache.go); a change committed
// between two calls reaches the second: the callee's user gone, the caller's
// department's emergency caller ID changed, the tenant's emergency numbers changed.
func TestStoreChangeReachesTheNextCall(t *testing.T) {
	f := newFixture(t, nl)
	bob, alice := f.line(t, f.bob, "203"), f.line(t, f.alice, "201")
	for range 2 {
		if r := f.out(t, bob, "202"); r.Kind != sip.RouteInternal || r.UserID != f.alice.ID {
			t.Fatalf("before: %+v", r)
		}
		if r := f.out(t, alice, "112"); r.CallerID != "+31201110999" {
			t.Fatalf("before: %+v", r)
		}
	}
	err := f.st.Update(func(tx *store.Tx) error {
		u, err := tx.User("acme", f.alice.ID)
		if err != nil {
			return err
		}
		next := u
		next.Extensions = []string{"201"}
		if err := tx.SaveUser(u, next); err != nil {
			return err
		}
		d, err := tx.Department("acme", u.DepartmentID)
		if err != nil {
			return err
		}
		nd := d
		nd.EmergencyCallerID = "+31 20 111 0888"
		if err := tx.SaveDepartment(d, nd); err != nil {
			return err
		}
		tn, err := tx.Tenant("acme")
		if err != nil {
			return err
		}
		nt := tn
		nt.EmergencyNumbers = []string{"911"}
		return tx.SaveTenant(tn, nt)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRefuse(t, f.out(t, bob, "202"), 404, "number not in use")
	if r := f.out(t, alice, "911"); r.Kind != sip.RouteEmergency || r.CallerID != "+31201110888" {
		t.Fatalf("after: %+v", r)
	}
	if r := f.out(t, alice, "112"); r.Kind == sip.RouteEmergency {
		t.Fatalf("112 is no emergency number any more: %+v", r)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
