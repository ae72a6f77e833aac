package store

import "testing"

// TestSIPDigestSetting: a tenant's and a model's sip_digest take the four values (any
// case, spaces ignored), "" is the default, anything else is refused naming the field.
func TestSIPDigestSetting(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	save := func(v string) (Tenant, error) {
		var got Tenant
		err := s.Update(func(tx *Tx) error {
			prev, err := tx.Tenant(DefaultTenant)
			if err != nil {
				return err
			}
			next := prev
			next.SIPDigest = v
			if err := tx.SaveTenant(prev, next); err != nil {
				return err
			}
			got, err = tx.Tenant(DefaultTenant)
			return err
		})
		return got, err
	}
	if tn, _ := s.Tenant(DefaultTenant); tn.SIPDigestOffer() != "md5,sha-256" {
		t.Fatalf("default offer %q", tn.SIPDigestOffer())
	}
	for in, want := range map[string]string{"md5": "md5", "MD5, SHA-256": "md5,sha-256",
		"sha-256,md5": "sha-256,md5", "SHA-256": "sha-256", "": ""} {
		tn, err := save(in)
		if err != nil || tn.SIPDigest != want {
			t.Errorf("sip_digest %q: %q %v", in, tn.SIPDigest, err)
		}
	}
	for _, bad := range []string{"sha-512", "md5,md5", "md5;sha-256", "sha256", ","} {
		if _, err := save(bad); fieldOf(err) != "sip_digest" {
			t.Errorf("sip_digest %q: %v", bad, err)
		}
	}
	err := s.Update(func(tx *Tx) error {
		return tx.SaveModelProfile(ModelProfile{Tenant: DefaultTenant, Make: "yealink", Model: "T46U", SIPDigest: "sha-1"})
	})
	if fieldOf(err) != "sip_digest" {
		t.Errorf("model sip_digest: %v", err)
	}
	err = s.Update(func(tx *Tx) error {
		return tx.SaveModelProfile(ModelProfile{Tenant: DefaultTenant, Make: "yealink", Model: "T46U", SIPDigest: "SHA-256"})
	})
	var mp ModelProfile
	s.View(func(tx *Tx) (e error) { mp, e = tx.ModelProfile(DefaultTenant, "yealink", "T46U"); return e })
	if err != nil || mp.SIPDigest != "sha-256" {
		t.Errorf("model sip_digest: %q %v", mp.SIPDigest, err)
	}
}
