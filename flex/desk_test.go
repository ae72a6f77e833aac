package flex

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	st    *store.Store
	desk  *Desk
	clock *clock
	anna  store.User
	bram  store.User
}

const (
	phoneA = "805ec0000001"
	phoneB = "805ec0000002"
	fixed  = "805ec0000003"
)

func setup(t *testing.T) *fixture {
	t.Helper()
	c := &clock{now: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.Bootstrap("bootstrap password"); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, clock: c, desk: New(st, nil, c.Now)}
	err = st.Update(func(tx *store.Tx) (err error) {
		t0, _ := tx.Tenant(store.DefaultTenant)
		t1 := t0
		t1.Timezone = "Europe/Amsterdam"
		if err := tx.SaveTenant(t0, t1); err != nil {
			return err
		}
		if f.anna, _, err = tx.CreateUser(store.DefaultTenant, store.NewUser{FirstName: "Anna", LastName: "de Jong", PIN: "482916", Extensions: []string{"201"}}); err != nil {
			return err
		}
		if f.bram, _, err = tx.CreateUser(store.DefaultTenant, store.NewUser{FirstName: "Bram", LastName: "Bos", PIN: "735104", Extensions: []string{"202"}}); err != nil {
			return err
		}
		for _, mac := range []string{phoneA, phoneB} {
			if _, err := tx.CreatePhone(store.Phone{MAC: mac, Tenant: store.DefaultTenant, Flex: true}); err != nil {
				return err
			}
		}
		if _, err := tx.CreatePhone(store.Phone{MAC: fixed, Tenant: store.DefaultTenant}); err != nil {
			return err
		}
		_, err = tx.CreateTenant(store.NewTenant{Slug: "other", SIPDomain: "other.example"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) session(t *testing.T, mac string) (store.FlexSession, bool) {
	t.Helper()
	var s store.FlexSession
	err := f.st.View(func(tx *store.Tx) (err error) { s, err = tx.Flex(store.DefaultTenant, mac); return err })
	if errors.Is(err, store.ErrNotFound) {
		return s, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

var sip = Via{How: "sip", Source: "192.0.2.10:5060"}

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	var changes []store.Change
	f.st.Subscribe(func(c store.Change) { changes = append(changes, c) }, store.KindFlex)
	s, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != f.anna.ID || s.Extension != "201" {
		t.Fatalf("session %+v", s)
	}
	// Default policy: daily at 03:00 in the tenant's zone (Amsterdam, UTC+1 in March).
	if want := time.Date(2026, 3, 11, 2, 0, 0, 0, time.UTC); !s.Until.Equal(want) {
		t.Errorf("until = %v, want %v", s.Until, want)
	}
	if len(changes) != 1 || changes[0].Op != store.OpPut || changes[0].ID != phoneA {
		t.Errorf("changes after login: %+v", changes)
	}
	if _, err := f.desk.Logout(ctx, store.DefaultTenant, phoneA, sip); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.session(t, phoneA); ok {
		t.Error("still logged in after logout")
	}
	if _, err := f.desk.Logout(ctx, store.DefaultTenant, phoneA, sip); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second logout: %v, want not found", err)
	}
	var events []store.AuditEvent
	f.st.View(func(tx *store.Tx) (err error) {
		events, err = tx.AuditLog(store.DefaultTenant, store.AuditQuery{Subject: f.anna.ID})
		return err
	})
	if len(events) < 2 || events[0].Action != "flex.logout" || events[1].Action != "flex.login" {
		t.Errorf("audit: %+v", events)
	}
}

func TestWrongAnswersLookTheSame(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	cases := []struct{ name, tenant, mac, ext, pin string }{
		{"wrong pin", store.DefaultTenant, phoneA, "201", "9999"},
		{"unknown extension", store.DefaultTenant, phoneA, "299", "482916"},
		{"letters", store.DefaultTenant, phoneA, "2a1", "482916"},
		{"overlong", store.DefaultTenant, phoneA, "201", "123456789012"},
		{"not a flex phone", store.DefaultTenant, fixed, "201", "482916"},
		{"other tenant's phone view", "other", phoneA, "201", "482916"},
	}
	for _, c := range cases {
		_, err := f.desk.Login(ctx, c.tenant, c.mac, c.ext, c.pin, sip)
		if !errors.Is(err, ErrWrongPIN) || err.Error() != "Wrong extension or PIN" {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, mac := range []string{phoneA, fixed} {
		if _, ok := f.session(t, mac); ok {
			t.Errorf("a refused login left a session at %s", mac)
		}
	}
}

// TestPINLockPerSource: a phone that guesses wrong MaxSourceFailures times is locked from
// flex login whatever extension it tries next; the extension's owner at another phone is
// not (issue 12 point 8: one hallway phone kept a colleague locked out).
func TestPINLockPerSource(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for i := 0; i < MaxSourceFailures; i++ {
		if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "000000", sip); !errors.Is(err, ErrWrongPIN) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "202", "735104", sip); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN of another extension at the guessing phone: %v, want locked", err)
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneB, "201", "482916", sip); err != nil {
		t.Fatalf("the owner at another phone: %v", err)
	}
	f.clock.Add(PINLock + time.Second)
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "202", "735104", sip); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestPINLockPerExtension: wrong PINs for one extension from several sources lock the
// extension at MaxExtensionFailures, at every phone; one source alone cannot get there.
func TestPINLockPerExtension(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	api := func(i int) Via { return Via{How: "api", Source: fmt.Sprintf("192.0.2.%d:4000", i)} }
	for i := 0; i < MaxExtensionFailures; i++ {
		if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "000000", api(i/MaxSourceFailures)); !errors.Is(err, ErrWrongPIN) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneB, "201", "482916", sip); !errors.Is(err, ErrLocked) {
		t.Fatalf("right PIN while the extension is locked: %v, want locked", err)
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneB, "202", "735104", sip); err != nil {
		t.Fatalf("other extension: %v", err)
	}
	f.clock.Add(PINLock + time.Second)
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// One phone, guessing on through its own locks, never locks the extension.
	for round := 0; round < 3; round++ {
		for i := 0; i < MaxSourceFailures+2; i++ {
			f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "000000", sip)
		}
		f.clock.Add(PINLock + time.Second)
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneB, "201", "482916", sip); err != nil {
		t.Fatalf("owner after one phone's guessing: %v", err)
	}
	var events []store.AuditEvent
	f.st.View(func(tx *store.Tx) (err error) {
		events, err = tx.AuditLog(store.DefaultTenant, store.AuditQuery{})
		return err
	})
	locks := 0
	for _, ev := range events {
		switch ev.Action {
		case "flex.locked":
			locks++
		case "flex.pin_failed":
			t.Errorf("a wrong guess was audited: %+v", ev)
		}
	}
	if locks != 3+3 { // two API addresses and the extension, then the phone three times
		t.Errorf("%d lock rows, want 6", locks)
	}
}

func TestOnePhonePerUser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneB, "201", "482916", sip); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.session(t, phoneA); ok {
		t.Error("first phone still logged in after login on a second")
	}
	if s, ok := f.session(t, phoneB); !ok || s.UserID != f.anna.ID {
		t.Error("second phone not logged in")
	}
	// With the tenant allowing several, both stay.
	f.st.Update(func(tx *store.Tx) error {
		t0, _ := tx.Tenant(store.DefaultTenant)
		t1 := t0
		t1.FlexMultiLogin = true
		return tx.SaveTenant(t0, t1)
	})
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip); err != nil {
		t.Fatal(err)
	}
	_, okA := f.session(t, phoneA)
	_, okB := f.session(t, phoneB)
	if !okA || !okB {
		t.Errorf("multi-login: A=%v B=%v", okA, okB)
	}
}

func TestRacingLoginsEndConsistent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mac, ext, pin := phoneA, "201", "482916"
			if i%2 == 1 {
				ext, pin = "202", "735104"
			}
			if i%4 >= 2 {
				mac = phoneB
			}
			if _, err := f.desk.Login(ctx, store.DefaultTenant, mac, ext, pin, sip); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	// Each phone has at most one user; each user is at one phone; indexes agree.
	seen := map[string]string{}
	for _, mac := range []string{phoneA, phoneB} {
		if s, ok := f.session(t, mac); ok {
			if other, dup := seen[s.UserID]; dup {
				t.Errorf("user %s at %s and %s", s.UserID, other, mac)
			}
			seen[s.UserID] = mac
		}
	}
	f.st.View(func(tx *store.Tx) error {
		for _, u := range []store.User{f.anna, f.bram} {
			macs, _ := tx.UserFlexPhones(store.DefaultTenant, u.ID)
			if len(macs) > 1 || (len(macs) == 1 && seen[u.ID] != macs[0]) {
				t.Errorf("index of %s says %v, sessions say %q", u.FirstName, macs, seen[u.ID])
			}
		}
		return nil
	})
}

func TestAutoLogout(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip)
	f.clock.Add(16 * time.Hour) // 01:00 UTC next day = 02:00 Amsterdam: not yet
	if n, err := f.desk.AutoLogout(ctx); err != nil || n != 0 {
		t.Fatalf("before 03:00: %d %v", n, err)
	}
	f.clock.Add(90 * time.Minute)
	if n, err := f.desk.AutoLogout(ctx); err != nil || n != 1 {
		t.Fatalf("after 03:00: %d %v", n, err)
	}
	if _, ok := f.session(t, phoneA); ok {
		t.Error("still logged in after auto-logout")
	}
}

func TestAutoLogoutPolicies(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC)
	at, _ := store.AutoLogoutAt("after:8h", "UTC", now)
	if !at.Equal(now.Add(8 * time.Hour)) {
		t.Errorf("after:8h → %v", at)
	}
	if at, _ := store.AutoLogoutAt("never", "UTC", now); !at.IsZero() {
		t.Errorf("never → %v", at)
	}
	// Across the end of summer time (25 Oct 2026 in Europe): 03:00 CET = 02:00 UTC.
	at, _ = store.AutoLogoutAt("daily:03:00", "Europe/Amsterdam", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC))
	if want := time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC); !at.Equal(want) {
		t.Errorf("daily across DST → %v, want %v", at, want)
	}
	for _, bad := range []string{"sometimes", "after:soon", "daily:25:00", "after:1s"} {
		if _, err := store.AutoLogoutAt(bad, "UTC", now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestUserDeleteAndExtensionLossLogOut(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip)
	f.desk.Login(ctx, store.DefaultTenant, phoneB, "202", "735104", sip)
	err := f.st.Update(func(tx *store.Tx) error {
		u, _ := tx.User(store.DefaultTenant, f.anna.ID)
		next := u
		next.Extensions = []string{"203"}
		return tx.SaveUser(u, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.session(t, phoneA); ok {
		t.Error("user whose extension was taken away is still logged in")
	}
	f.st.Update(func(tx *store.Tx) error { _, err := tx.DeleteUser(store.DefaultTenant, f.bram.ID); return err })
	if _, ok := f.session(t, phoneB); ok {
		t.Error("deleted user still logged in")
	}
}

// TestLogoutDialledOnlyOwnSession: *56 from another user's line leaves the session
// alone; from the user's own line or the guest line (no user) it ends it.
func TestLogoutDialledOnlyOwnSession(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.LogoutDialled(ctx, store.DefaultTenant, phoneA, f.bram.ID, sip); !errors.Is(err, ErrNotYours) {
		t.Fatalf("logout by another user: %v", err)
	}
	if _, ok := f.session(t, phoneA); !ok {
		t.Fatal("another user's *56 ended the session")
	}
	if _, err := f.desk.LogoutDialled(ctx, store.DefaultTenant, phoneA, f.anna.ID, sip); err != nil {
		t.Fatalf("own logout: %v", err)
	}
	if _, err := f.desk.Login(ctx, store.DefaultTenant, phoneA, "201", "482916", sip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.LogoutDialled(ctx, store.DefaultTenant, phoneA, "", sip); err != nil {
		t.Fatalf("guest line logout: %v", err)
	}
}
