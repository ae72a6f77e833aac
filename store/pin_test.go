package store

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTrivialPIN(t *testing.T) {
	t.Parallel()
	for _, pin := range []string{"123456", "654321", "000000", "999999", "121212", "123123", "890123",
		"321098", "1234", "4321", "12341234", "101010101010", "0123456789"} {
		if !TrivialPIN(pin) {
			t.Errorf("%s not trivial", pin)
		}
	}
	for _, pin := range []string{"482916", "735104", "120121", "112233", "1357", "246813", "98765123"} {
		if TrivialPIN(pin) {
			t.Errorf("%s trivial", pin)
		}
	}
}

func TestPINPolicy(t *testing.T) {
	t.Parallel()
	def := Tenant{}
	four := Tenant{PINMinLength: 4}
	cases := []struct {
		t    Tenant
		pin  string
		ok   bool
		text string
	}{
		{def, "482916", true, ""},
		{def, "48291", false, "at least 6"},
		{four, "4829", true, ""},
		{def, "123456", false, "easy"},
		{def, "000000", false, "easy"},
		{def, "654321", false, "easy"},
		{def, "201201", false, "easy"},
		{def, "4829a6", false, "4 to 12"},
		{def, "4829164829164", false, "4 to 12"},
		{Tenant{PINMinLength: 8}, "4829163", false, "at least 8"},
		{def, "220301", false, "extension"},
	}
	for _, c := range cases {
		err := CheckNewPIN(c.t, c.pin, []string{"220301"})
		if (err == nil) != c.ok || (err != nil && (fieldOf(err) != "pin" || !strings.Contains(err.Error(), c.text))) {
			t.Errorf("%s (min %d): %v", c.pin, c.t.PINLength(), err)
		}
		if err != nil && strings.Contains(err.Error(), c.pin) {
			t.Errorf("the PIN is in the error: %v", err)
		}
	}
	for _, n := range []int{4, 6, 9, 12} {
		for range 50 {
			if p := GeneratePIN(n); len(p) != n || CheckNewPIN(Tenant{PINMinLength: n}, p, nil) != nil {
				t.Fatalf("generated %q for length %d", p, n)
			}
		}
	}
}

// TestTenantPINSettings: the tenant's PIN length is the length of generated PINs, and the
// settings are range-checked by SaveTenant.
func TestTenantPINSettings(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	err := s.Update(func(tx *Tx) error {
		prev, _ := tx.Tenant(DefaultTenant)
		for _, bad := range []Tenant{{PINMinLength: 3}, {PINMinLength: 13}, {AuditRetentionDays: -1}, {AuditRetentionDays: 3651}} {
			next := prev
			next.PINMinLength, next.AuditRetentionDays = bad.PINMinLength, bad.AuditRetentionDays
			err := tx.SaveTenant(prev, next)
			if f := fieldOf(err); err == nil || (f != "pin_min_length" && f != "audit_retention_days") {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		next := prev
		next.PINMinLength = 9
		return tx.SaveTenant(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, g := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "A", LastName: "B"}); len(g.PIN) != 9 {
		t.Errorf("generated PIN of %d digits, want 9", len(g.PIN))
	}
	err = s.Update(func(tx *Tx) error {
		_, _, err := tx.CreateUser(DefaultTenant, NewUser{FirstName: "C", LastName: "D", PIN: "48291637"})
		return err
	})
	if fieldOf(err) != "pin" {
		t.Errorf("8 digits under a 9-digit policy: %v", err)
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestAuditRetention: events older than the tenant's audit_retention_days go at the sweep
// (default 400 days), newer ones stay.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	c := &testClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	s, err := Open(Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, _, err := s.Bootstrap("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *Tx) error {
		if _, err := tx.CreateTenant(NewTenant{Slug: "short"}); err != nil {
			return err
		}
		prev, _ := tx.Tenant("short")
		next := prev
		next.AuditRetentionDays = 30
		return tx.SaveTenant(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	write := func(n int) {
		t.Helper()
		err := s.Update(func(tx *Tx) error {
			for i := 0; i < n; i++ {
				for _, slug := range []string{DefaultTenant, "short"} {
					if err := tx.Audit(AuditEvent{Tenant: slug, Action: "flex.locked"}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count := func(slug string) int {
		var evs []AuditEvent
		if err := s.View(func(tx *Tx) (err error) { evs, err = tx.AuditLog(slug, AuditQuery{}); return err }); err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	before := map[string]int{DefaultTenant: count(DefaultTenant), "short": count("short")}
	write(sweepBatch + 5) // more than one sweep transaction
	c.add(31 * 24 * time.Hour)
	write(3)
	if _, err := s.SweepAudit(c.now()); err != nil {
		t.Fatal(err)
	}
	if n := count("short"); n != 3 {
		t.Errorf("30-day tenant after 31 days: %d events, want the 3 new ones", n)
	}
	if n := count(DefaultTenant); n != before[DefaultTenant]+sweepBatch+5+3 {
		t.Errorf("400-day tenant after 31 days lost events: %d", n)
	}
	c.add(370 * 24 * time.Hour) // 401 days after the first batch, 370 after the second
	if _, err := s.SweepAudit(c.now()); err != nil {
		t.Fatal(err)
	}
	if n := count(DefaultTenant); n != 3 {
		t.Errorf("400-day tenant after 401 days: %d events, want the 3 newer ones", n)
	}
}
