package store

import (
	"testing"
	"time"
)

// Rotating the provisioning token keeps idx/token right in the same transaction: the
// current and the previous token are indexed, an older one is gone.
func TestRotateProvisioningTokenIndex(t *testing.T) {
	s := openTest(t)
	t0, _ := s.Tenant(DefaultTenant)
	var t1, t2 Tenant
	err := s.Update(func(tx *Tx) (err error) {
		if t1, err = tx.RotateProvisioningToken(DefaultTenant, time.Hour); err != nil {
			return err
		}
		t2, err = tx.RotateProvisioningToken(DefaultTenant, time.Hour)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		for tok, want := range map[string]bool{t0.ProvisioningToken: false, t1.ProvisioningToken: true, t2.ProvisioningToken: true} {
			if ok, err := tx.exists("idx/token/" + tok); err != nil || ok != want {
				t.Errorf("idx/token for %s: %v, want %v (%v)", tok[:8], ok, want, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { _, err := tx.RotateProvisioningToken(DefaultTenant, -time.Second); return err }); fieldOf(err) != "grace" {
		t.Fatalf("negative grace: %v", err)
	}
}

// A phone stored before phones had their own passwords gets them on OwnPasswords; until
// then it has the tenant's former admin password.
func TestOwnPasswordsForOlderPhones(t *testing.T) {
	s := openTest(t)
	tn, _ := s.Tenant(DefaultTenant)
	old := Phone{MAC: "805ec0aabbcc", Tenant: DefaultTenant}
	err := s.Update(func(tx *Tx) error {
		if err := tx.put(phoneKey(old.MAC), old); err != nil {
			return err
		}
		return tx.putRaw(tenantPhoneKey(DefaultTenant, old.MAC), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	tenantPW, _ := s.secrets.Open(tn.PhoneAdminPassword)
	if pw, _ := s.PhoneAdminPassword(tn, old); pw != tenantPW {
		t.Fatal("an older phone lost the admin password it was given")
	}
	var p Phone
	if err := s.Update(func(tx *Tx) (err error) { p, err = tx.OwnPasswords(old.MAC); return err }); err != nil {
		t.Fatal(err)
	}
	own, _ := s.PhoneAdminPassword(tn, p)
	cur, _, _ := s.ProvisioningPasswords(p)
	if own == "" || own == tenantPW || cur == "" {
		t.Fatalf("own passwords not given: admin %q provisioning %q", own, cur)
	}
}
