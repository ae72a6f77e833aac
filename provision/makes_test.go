package provision

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// TestEveryMakeOverHTTP: a phone of each make, assigned to the user, fetches
// its files with its own User-Agent; each answer parses in its format and
// carries the user's first line. Shared names go by the phone record.
func TestEveryMakeOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phones := []struct {
		mk, model, mac, ua, file, want string
	}{
		{"poly", "VVX450", "0004f2010203", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018", "0004f2010203-user.cfg", `reg.1.address="201@acme.example"`},
		{"snom", "D785", "000413a1b2c3", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)", "000413A1B2C3.xml", `<user_name idx="1" perm="">201</user_name>`},
		{"cisco", "8841", "00562b043615", "Cisco-CP8841-3PCC/11.3.7 (00562b043615)", "00562b043615.xml", "<User_ID_1_>201</User_ID_1_>"},
		{"grandstream", "GRP2614", "c074ad010203", "Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203", "cfgc074ad010203.xml", "<P35>201</P35>"},
		{"fanvil", "X4U", "0c383e07e16c", "Fanvil X4U 2.12.10 0c383e07e16c", "0c383e07e16c.cfg", "<PhoneNumber>201</PhoneNumber>"},
		// A Fanvil bought with a Yealink-looking MAC: the record decides the shared name.
		{"fanvil", "X4U", "805ec0010101", "", "805ec0010101.cfg", "<PhoneNumber>201</PhoneNumber>"},
	}
	err := e.st.Update(func(tx *store.Tx) error {
		for _, p := range phones {
			if _, err := tx.CreatePhone(store.Phone{MAC: p.mac, Tenant: "acme", Make: p.mk, Model: p.model, UserID: e.user.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	for _, p := range phones {
		code, body, _ := get(t, base+p.file, p.ua)
		if code != 200 || !strings.Contains(body, p.want) {
			t.Errorf("%s %s: %d\n%s", p.mk, p.file, code, body)
			continue
		}
		if _, _, err := parseXML([]byte(body)); err != nil {
			t.Errorf("%s: %v", p.file, err)
		}
	}
	// Poly's per-phone master names the user file.
	if code, body, _ := get(t, base+"0004f2010203.cfg", phones[0].ua); code != 200 || !strings.Contains(body, "[PHONE_MAC_ADDRESS]-user.cfg") {
		t.Errorf("poly master: %d %s", code, body)
	}
}

// TestFlexPhoneGetsGuestLine: a flex phone with nobody logged in carries only
// its guest account.
func TestFlexPhoneGetsGuestLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ph store.Phone
	err := e.st.Update(func(tx *store.Tx) error {
		var err error
		ph, err = tx.CreatePhone(store.Phone{MAC: "805ec0020202", Tenant: "acme", Model: "T54W", Flex: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/805ec0020202.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:02:02:02")
	kv, err := parseYealink([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := e.st.GuestPassword(ph)
	if kv["account.1.auth_name"] != ph.GuestUsername || kv["account.1.password"] != pw || kv["account.2.enable"] != "0" {
		t.Fatalf("guest line: %q %q", kv["account.1.auth_name"], kv["account.2.enable"])
	}
	// The label says what to do, in the tenant's language (acme speaks German).
	if kv["account.1.label"] != "Flex — anmelden" {
		t.Errorf("guest label %q, want the German for \"Flex — log in\"", kv["account.1.label"])
	}
}
