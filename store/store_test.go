package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, _, err := s.Bootstrap("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCreateUser(t *testing.T, s *Store, slug string, in NewUser) (User, Generated) {
	t.Helper()
	var u User
	var g Generated
	err := s.Update(func(tx *Tx) (err error) { u, g, err = tx.CreateUser(slug, in); return err })
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u, g
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestBootstrapOnce(t *testing.T) {
	s := openTest(t)
	created, _, err := s.Bootstrap("another password")
	if err != nil || created {
		t.Fatalf("second bootstrap: created=%v err=%v", created, err)
	}
	err = s.View(func(tx *Tx) error {
		us, err := tx.UsersByLogin("Admin@Localhost")
		if err != nil || len(us) != 1 {
			t.Fatalf("login lookup: %v %d", err, len(us))
		}
		if ok, err := s.Secrets().CheckPassword(context.Background(), "", "correct horse battery", us[0].PasswordHash); !ok || err != nil {
			t.Error("bootstrap password does not verify")
		}
		if ok, _ := s.Secrets().CheckPassword(context.Background(), "", "another password", us[0].PasswordHash); ok {
			t.Error("second bootstrap changed the password")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateUserAssignsExtensionAndSIPAccount(t *testing.T) {
	s := openTest(t)
	u, gen := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "Anna", LastName: "de Jong", Email: "anna@example.com"})
	if len(u.Extensions) != 1 || u.Extensions[0] != "100" {
		t.Fatalf("extensions = %v, want [100]", u.Extensions)
	}
	if !ValidPIN(gen.PIN) || len(gen.Password) < 16 {
		t.Fatalf("generated = %+v", gen)
	}
	if !s.Secrets().CheckPIN(u.PINOwner(), gen.PIN, u.PINHash) || s.Secrets().CheckPIN(u.PINOwner(), "0000", u.PINHash) {
		t.Error("PIN hash does not verify the generated PIN only")
	}
	e, err := s.Extension(DefaultTenant, "100")
	if err != nil {
		t.Fatal(err)
	}
	if e.SIPUsername == "100" || len(e.SIPUsername) < 8 {
		t.Errorf("sip username %q must be random, not the extension", e.SIPUsername)
	}
	pw, err := s.SIPPassword(e)
	if err != nil || len(pw) < 16 || strings.Contains(e.SIPPassword, pw) {
		t.Errorf("sip password: %q err=%v (must be sealed at rest)", pw, err)
	}
	acc, err := s.SIPAccount(e.SIPUsername)
	if err != nil || acc.Extension != "100" || acc.UserID != u.ID {
		t.Errorf("SIPAccount = %+v, %v", acc, err)
	}
	u2, _ := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "Bram", LastName: "Jansen"})
	if u2.Extensions[0] != "101" {
		t.Errorf("second user got %v, want 101", u2.Extensions)
	}
}

func TestUniquenessInTransaction(t *testing.T) {
	s := openTest(t)
	mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "A", LastName: "B", Email: "a@x.nl",
		Extensions: []string{"201"}, ExternalNumbers: []string{"+31 20 123 4567"}})
	cases := []struct {
		in    NewUser
		field string
		want  error
	}{
		{NewUser{FirstName: "C", LastName: "D", Email: "A@X.NL"}, "email", ErrConflict},
		{NewUser{FirstName: "C", LastName: "D", Extensions: []string{"201"}}, "extensions", ErrConflict},
		{NewUser{FirstName: "C", LastName: "D", ExternalNumbers: []string{"+31201234567"}}, "external_numbers", ErrConflict},
		{NewUser{FirstName: "C", LastName: "D", ExternalNumbers: []string{"0201234567"}}, "external_numbers", ErrInvalid},
		{NewUser{FirstName: "C", LastName: "D", Extensions: []string{"12a"}}, "extensions", ErrInvalid},
		{NewUser{FirstName: "C", LastName: "D", Email: "not-an-email"}, "email", ErrInvalid},
		{NewUser{FirstName: "", LastName: "D"}, "first_name", ErrInvalid},
		{NewUser{FirstName: "C", LastName: "D", PIN: "12"}, "pin", ErrInvalid},
		{NewUser{FirstName: "C", LastName: "D", Role: "root"}, "role", ErrInvalid},
		{NewUser{FirstName: "C", LastName: "D", Language: "klingon"}, "language", ErrInvalid},
	}
	for _, c := range cases {
		err := s.Update(func(tx *Tx) error { _, _, err := tx.CreateUser(DefaultTenant, c.in); return err })
		if !errors.Is(err, c.want) || fieldOf(err) != c.field {
			t.Errorf("%+v: err=%v, want %v on %s", c.in, err, c.want, c.field)
		}
	}
	// A failed create leaves nothing behind: the extension it would have taken is free.
	err := s.View(func(tx *Tx) error {
		exts, err := tx.Extensions(DefaultTenant, "", 0)
		if len(exts) != 1 {
			t.Errorf("extensions after failed creates: %d, want 1", len(exts))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeleteUserRemovesEveryReference(t *testing.T) {
	s := openTest(t)
	u, _ := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "A", LastName: "B", Email: "a@x.nl",
		Extensions: []string{"201", "202"}, ExternalNumbers: []string{"+31201234567"}})
	var sipUser, token string
	err := s.Update(func(tx *Tx) error {
		e, _ := tx.Extension(DefaultTenant, "201")
		sipUser = e.SIPUsername
		if _, err := tx.CreatePhone(Phone{MAC: "80:5E:C0:AA:BB:CC", Tenant: DefaultTenant, UserID: u.ID}); err != nil {
			return err
		}
		var err error
		token, err = tx.CreateSession(Session{Tenant: DefaultTenant, UserID: u.ID}, 3600e9)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var changes []Change
	cancel := s.Subscribe(func(c Change) { changes = append(changes, c) })
	defer cancel()
	if err := s.Update(func(tx *Tx) error { _, err := tx.DeleteUser(DefaultTenant, u.ID); return err }); err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		if _, err := tx.User(DefaultTenant, u.ID); !errors.Is(err, ErrNotFound) {
			t.Error("user still there")
		}
		if _, err := tx.Extension(DefaultTenant, "202"); !errors.Is(err, ErrNotFound) {
			t.Error("extension still there")
		}
		if _, err := tx.SIPAccount(sipUser); !errors.Is(err, ErrNotFound) {
			t.Error("sip account still there")
		}
		if _, err := tx.ExternalNumber(DefaultTenant, "+31201234567"); !errors.Is(err, ErrNotFound) {
			t.Error("DID still there")
		}
		if us, _ := tx.UsersByLogin("a@x.nl"); len(us) != 0 {
			t.Error("login index still there")
		}
		if _, err := tx.Session(token); !errors.Is(err, ErrNotFound) {
			t.Error("session still there")
		}
		p, err := tx.Phone("805ec0aabbcc")
		if err != nil || p.UserID != "" {
			t.Errorf("phone not unassigned: %+v %v", p, err)
		}
		if macs, _ := tx.UserPhones(DefaultTenant, u.ID); len(macs) != 0 {
			t.Error("user-phone index still there")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, c := range changes {
		kinds = append(kinds, c.Kind)
	}
	for _, k := range []Kind{KindUser, KindExtension, KindNumber, KindPhone} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s change published on delete (got %v)", k, kinds)
		}
	}
}

func TestTenantIsolationOfPhones(t *testing.T) {
	s := openTest(t)
	err := s.Update(func(tx *Tx) error {
		if _, err := tx.CreateTenant(NewTenant{Slug: "acme", SIPDomain: "acme.example"}); err != nil {
			return err
		}
		_, err := tx.CreatePhone(Phone{MAC: "0004f2010203", Tenant: "acme"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		if _, err := tx.TenantPhone(DefaultTenant, "0004f2010203"); !errors.Is(err, ErrNotFound) {
			t.Error("default tenant sees acme's phone")
		}
		if ps, _ := tx.Phones(DefaultTenant, "", 0); len(ps) != 0 {
			t.Error("default tenant lists acme's phone")
		}
		if ps, _ := tx.Phones("acme", "", 0); len(ps) != 1 {
			t.Error("acme does not list its phone")
		}
		tn, err := tx.TenantBySIPDomain("ACME.example")
		if err != nil || tn.Slug != "acme" {
			t.Errorf("sip domain index: %v %v", tn.Slug, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFlexGuestAccount(t *testing.T) {
	s := openTest(t)
	var p Phone
	err := s.Update(func(tx *Tx) (err error) {
		p, err = tx.CreatePhone(Phone{MAC: "0004f2010203", Tenant: DefaultTenant, Flex: true})
		return err
	})
	if err != nil || p.GuestUsername == "" {
		t.Fatalf("flex phone: %+v %v", p, err)
	}
	acc, err := s.SIPAccount(p.GuestUsername)
	if err != nil || acc.GuestMAC != p.MAC || acc.Extension != "" {
		t.Fatalf("guest account: %+v %v", acc, err)
	}
	err = s.Update(func(tx *Tx) error {
		next := p
		next.Flex = false
		return tx.SavePhone(p, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SIPAccount(p.GuestUsername); !errors.Is(err, ErrNotFound) {
		t.Error("guest account outlived flex mode")
	}
}

func TestDepartmentDeleteNeedsDestination(t *testing.T) {
	s := openTest(t)
	var sales, support Department
	err := s.Update(func(tx *Tx) (err error) {
		if sales, err = tx.CreateDepartment(DefaultTenant, Department{Name: "Sales"}); err != nil {
			return err
		}
		support, err = tx.CreateDepartment(DefaultTenant, Department{Name: "Support"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "A", LastName: "B", DepartmentID: sales.ID})
	// Support's own, also in Sales: leaves Sales, stays in Support.
	also, _ := mustCreateUser(t, s, DefaultTenant, NewUser{FirstName: "C", LastName: "D", DepartmentID: support.ID, Departments: []string{sales.ID}})
	err = s.Update(func(tx *Tx) error { _, err := tx.DeleteDepartment(DefaultTenant, sales.ID, ""); return err })
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("delete with members: %v, want conflict", err)
	}
	var moved []string
	if err := s.Update(func(tx *Tx) (err error) {
		moved, err = tx.DeleteDepartment(DefaultTenant, sales.ID, support.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(moved) != 1 || moved[0] != u.ID {
		t.Errorf("moved %v, want the one member", moved)
	}
	if got, _ := s.User(DefaultTenant, also.ID); got.DepartmentID != support.ID || len(got.Departments) != 0 {
		t.Errorf("further member after the delete: main %q, further %v", got.DepartmentID, got.Departments)
	}
	got, _ := s.User(DefaultTenant, u.ID)
	if got.DepartmentID != support.ID {
		t.Errorf("member moved to %q, want %q", got.DepartmentID, support.ID)
	}
}

func TestNormalizers(t *testing.T) {
	for in, want := range map[string]string{"00:15:65:AA:BB:CC": "001565aabbcc", "00-15-65-aa-bb-cc": "001565aabbcc", "0015.65aa.bbcc": "001565aabbcc"} {
		if got, ok := NormalizeMAC(in); !ok || got != want {
			t.Errorf("MAC %q → %q %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "001565aabbc", "001565aabbccdd", "zz1565aabbcc", "00:15:65:aa:bb:cc:dd"} {
		if _, ok := NormalizeMAC(bad); ok {
			t.Errorf("MAC %q accepted", bad)
		}
	}
	if got, ok := NormalizeE164("+31 (20) 123-4567"); !ok || got != "+31201234567" {
		t.Errorf("E.164: %q %v", got, ok)
	}
	for _, bad := range []string{"0201234567", "+0123456789", "+31", "+31201234567890123", "+31abc"} {
		if _, ok := NormalizeE164(bad); ok {
			t.Errorf("E.164 %q accepted", bad)
		}
	}
	for in, want := range map[string]string{"Dutch": "nl", "nl-NL": "nl", "NO": "nb", "Deutsch": "de"} {
		if got, ok := NormalizeLanguage(in); !ok || got != want {
			t.Errorf("language %q → %q", in, got)
		}
	}
}

func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"00:15:65:aa:bb:cc", "0015.65aa.bbcc", "", "::::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := NormalizeMAC(s)
		if ok && (len(m) != 12 || strings.ToLower(m) != m) {
			t.Fatalf("%q → %q", s, m)
		}
	})
}
