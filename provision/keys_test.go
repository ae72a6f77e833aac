package provision

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/ldapdir"
	"github.com/dialtone/dialtone/store"
)

// withKeys gives tenant acme a second user, Bea (extension 203), and Anna (201, 202)
// n keys: BLF keys watching 203 and speed dials, alternating, labelled k1, k2, …
func withKeys(t *testing.T, e *env, n int) []store.PhoneKey {
	t.Helper()
	keys := make([]store.PhoneKey, n)
	for i := range keys {
		keys[i] = store.PhoneKey{Type: store.KeyBLF, Value: "203", Label: fmt.Sprintf("k%d", i+1)}
		if i%2 == 1 {
			keys[i] = store.PhoneKey{Type: store.KeySpeedDial, Value: fmt.Sprintf("+3120000%02d", i+1), Label: fmt.Sprintf("k%d", i+1)}
		}
	}
	err := e.st.Update(func(tx *store.Tx) error {
		if _, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Bea", LastName: "Bos", Role: store.RoleUser, Extensions: []string{"203"}}); err != nil {
			return err
		}
		_, err := tx.SetUserKeys("acme", e.user.ID, keys)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// gsConfig fetches a Grandstream phone's config over HTTP and returns its P-values.
func gsConfig(t *testing.T, e *env, mac, model string) map[string]string {
	t.Helper()
	return xmlConfig(t, e, store.Phone{MAC: mac, Make: "grandstream", Model: model},
		"/cfg"+mac+".xml", "Grandstream Model HW "+model+" SW 1.0.5.33 DevId "+mac, "gs_provision/config/")
}

// xmlConfig adds phone to tenant acme for e's user, fetches its XML config file over
// HTTP as userAgent and returns the values under prefix, keyed by the path after it.
func xmlConfig(t *testing.T, e *env, phone store.Phone, file, userAgent, prefix string) map[string]string {
	t.Helper()
	phone.Tenant, phone.UserID = "acme", e.user.ID
	err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.CreatePhone(phone)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+file, userAgent)
	if code != 200 {
		t.Fatalf("%s: %d %s", phone.Model, code, body)
	}
	doc, _, err := parseXML([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", phone.Model, err)
	}
	out := map[string]string{}
	for k, v := range doc {
		if p, ok := strings.CutPrefix(k, prefix); ok {
			out[p] = v
		}
	}
	return out
}

func wantP(t *testing.T, model string, got map[string]string, want map[string]string) {
	t.Helper()
	for p, v := range want {
		if got[p] != v {
			t.Errorf("%s: %s = %q, want %q", model, p, got[p], v)
		}
	}
}

// TestGrandstreamKeysPastTheSeventh: a user's 50 keys fill a GXP2170's 48 virtual
// multi-purpose keys after its two lines, with the GXP modes on its 12 fixed keys, and
// run on onto its extension boards; a GRP2614 takes 16 VPKs (GRP modes) and then its 24
// physical MPKs, and the keys past those are left out. Neither gets a key on P-values
// the model does not have.
func TestGrandstreamKeysPastTheSeventh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	withKeys(t, e, 50)

	gxp := gsConfig(t, e, "000b82010170", "GXP2170")
	wantP(t, "GXP2170", gxp, map[string]string{
		"P1363": "0", "P1364": "0", "P1465": "201", // line 1 on VPK 1
		"P1365": "0", "P1366": "1", "P1467": "202", // line 2 on VPK 2
		"P1367": "11", "P1368": "0", "P1469": "k1", "P1470": "203", // BLF on fixed VPK 3
		"P1369": "10", "P1471": "k2", "P1472": "+312000002", // speed dial on fixed VPK 4
		"P23820": "10", "P23823": "+312000010", // VPK 12, the last fixed key: key 10
		"P23824": "1", "P23826": "k11", "P23827": "203", // VPK 13, dynamic: key 11, BLF mode 1
		"P23964": "0", "P23966": "k46", "P23967": "+312000046", // VPK 48: key 46
		"P23000": "1", "P23002": "k47", "P23003": "203", // extension board key 1: key 47
		"P23015": "0", "P23017": "k50", // board key 4: key 50
		"P23020": "-1", "P23795": "-1", // board keys 5 to 160 cleared
	})
	if _, ok := gxp["P323"]; ok {
		t.Errorf("GXP2170 has no physical multi-purpose keys, yet P323 = %q", gxp["P323"])
	}

	grp := gsConfig(t, e, "c074ad010614", "GRP2614")
	wantP(t, "GRP2614", grp, map[string]string{
		"P1363": "31", "P1364": "0", "P1365": "31", "P1366": "1", // lines
		"P1367": "1", "P1469": "k1", "P1470": "203", // BLF on a fixed VPK: mode 1 on GRP
		"P1369": "0", "P1472": "+312000002",
		"P1371": "1", "P1473": "k3", // VPK 5, dynamic
		"P23836": "0", "P23838": "k14", // VPK 16: key 14
		"P323": "1", "P302": "k15", "P303": "203", // MPK 1: key 15
		"P329": "1", "P321": "203", // MPK 7: key 21
		"P353": "0", "P355": "k22", // MPK 8: key 22
		"P1440": "1", "P1442": "k33", // MPK 19: key 33
		"P1460": "0", "P1462": "k38", "P1463": "+312000038", // MPK 24: key 38
	})
	for _, p := range []string{"P23000", "P23840"} {
		if v, ok := grp[p]; ok {
			t.Errorf("GRP2614: %s = %q, a key the model does not have", p, v)
		}
	}
}

// TestGrandstreamKeysCleared: keys a phone kept from an earlier config are cleared:
// the fixed VPKs left become line keys again, every other key left gets mode -1.
func TestGrandstreamKeysCleared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	withKeys(t, e, 1)
	grp := gsConfig(t, e, "c074ad020615", "GRP2615")
	wantP(t, "GRP2615", grp, map[string]string{
		"P1367": "1", "P1470": "203", // the one key, on VPK 3
		"P1369": "31", "P1370": "0", "P1471": "", // VPK 4 and 5: fixed, line keys again
		"P1371": "31",
		"P1373": "-1", "P23800": "-1", "P23932": "-1", // VPK 6 to 40: none
	})
	if v, ok := grp["P23936"]; ok {
		t.Errorf("GRP2615 has 40 VPKs, yet P23936 (a 41st) = %q", v)
	}
}

// TestCatalogueKeyCounts: the model table's key columns are read and checked.
func TestCatalogueKeyCounts(t *testing.T) {
	c, err := ParseCatalogue([]byte("grandstream,GXP2170,,GXP,48,12,0,160\nyealink,T46U,y000000000108.cfg,T4x\nfanvil,X4U,F0V00X4U0000.cfg,X series,33,3,0,0,6\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := c.Lookup(Grandstream, "gxp2170"); m.Keys != 48 || m.FixedKeys != 12 || m.SideKeys != 0 || m.ExtKeys != 160 || m.Family != "GXP" {
		t.Errorf("GXP2170: %+v", m)
	}
	if m, _ := c.Lookup(Yealink, "T46U"); m.Keys != 0 {
		t.Errorf("T46U without counts: %+v", m)
	}
	if m, _ := c.Lookup(Fanvil, "X4U"); m.Keys != 33 || m.FixedKeys != 3 || m.PageKeys != 6 {
		t.Errorf("X4U: %+v", m)
	}
	for _, bad := range []string{"fanvil,X,,X series,33,3,0,0,-6", "fanvil,X,,X series,33,3,0,0,six", "grandstream,X,,GRP,many", "grandstream,X,,GRP,-1", "grandstream,X,,GRP,4,5", "grandstream,X,,GRP,1000"} {
		if _, err := ParseCatalogue([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPolyDirectoryCarriesSpeedDials: a known Poly phone's {mac}-directory.xml holds
// its user's speed dials as contacts with a speed-dial index, in the user's order, then
// the tenant's phonebook without the numbers a speed dial already has; BLF keys stay out
// (they are attendant.resourceList in the phone's file). Unknown and other tenants'
// MACs get nothing.
func TestPolyDirectoryCarriesSpeedDials(t *testing.T) {
	t.Parallel()
	dir := ldapdir.NewDirectory()
	e := newEnvWith(t, func(c *Config) { c.Phonebooks = dir })
	f, err := ldapdir.Follow(e.st, dir, e.st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	const mac = "0004f2000777"
	err = e.st.Update(func(tx *store.Tx) error {
		if _, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Bea", LastName: "Bos", Role: store.RoleUser, Extensions: []string{"203"}}); err != nil {
			return err
		}
		if _, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Cas", LastName: "Kok", Role: store.RoleUser, Extensions: []string{"204"}}); err != nil {
			return err
		}
		if _, err := tx.SetUserKeys("acme", e.user.ID, []store.PhoneKey{
			{Type: store.KeyBLF, Value: "203", Label: "Bea"},
			{Type: store.KeySpeedDial, Value: "+31201234567", Label: "Desk <&>"},
			{Type: store.KeySpeedDial, Value: "203", Label: "Bea direct"},
		}); err != nil {
			return err
		}
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "other"}); err != nil {
			return err
		}
		if _, err := tx.CreatePhone(store.Phone{MAC: "0004f2000888", Tenant: "other", Make: "poly", Model: "VVX450"}); err != nil {
			return err
		}
		_, err := tx.CreatePhone(store.Phone{MAC: mac, Tenant: "acme", Make: "poly", Model: "VVX450", UserID: e.user.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const ua = "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018"
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	var body string
	testkit.Eventually(t, 3*time.Second, "Cas in the phonebook part of the Poly directory", func() bool {
		var code int
		code, body, _ = get(t, base+mac+"-directory.xml", ua)
		return code == 200 && strings.Contains(body, "<ln>Kok</ln>")
	})
	var d struct {
		Items []struct {
			FN string `xml:"fn"`
			LN string `xml:"ln"`
			CT string `xml:"ct"`
			SD string `xml:"sd"`
			LB string `xml:"lb"`
		} `xml:"item_list>item"`
	}
	if err := xml.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(d.Items) < 5 {
		t.Fatalf("want 2 speed dials and the phonebook, got\n%s", body)
	}
	if it := d.Items[0]; it.CT != "+31201234567" || it.SD != "1" || it.LB != "Desk <&>" {
		t.Errorf("first contact %+v, want the speed dial Desk with sd 1", it)
	}
	if it := d.Items[1]; it.CT != "203" || it.SD != "2" || it.LB != "Bea direct" {
		t.Errorf("second contact %+v, want the speed dial 203 with sd 2", it)
	}
	cts := map[string]int{}
	for _, it := range d.Items[2:] {
		cts[it.CT]++
		if it.SD != "" {
			t.Errorf("phonebook contact %+v has a speed-dial index", it)
		}
	}
	if cts["203"] != 0 || cts["201"] != 1 || cts["202"] != 1 || cts["204"] != 1 {
		t.Errorf("phonebook contacts by number %v: want 201, 202 and 204 once, 203 only as the speed dial", cts)
	}
	for name, file := range map[string]string{"unknown MAC": "0004f2999999-directory.xml", "another tenant's phone": "0004f2000888-directory.xml"} {
		if code, body, _ := get(t, base+file, ua); code != 404 || strings.Contains(body, "Bea") {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
}

// TestPolyDirectoryNamesFit: a label of 32 two-byte characters is cut to Poly's 40
// bytes on a character boundary; a speed dial repeated and a phonebook number seen twice
// appear once (ct must be unique).
func TestPolyDirectoryNamesFit(t *testing.T) {
	label := strings.Repeat("é", 32)
	out := polyDirectory([]Key{{Type: "speed_dial", Value: "123", Label: label}, {Type: "speed_dial", Value: "123", Label: "again"}},
		[]polyDirItem{{LN: "A", CT: "456"}, {LN: "B", CT: "456"}, {LN: "C", CT: "123"}})
	if _, err := parsePolyDirectory(out); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(out), "<item>"); got != 2 {
		t.Fatalf("%d contacts, want 123 and 456 once each:\n%s", got, out)
	}
	want := "<fn>" + strings.Repeat("é", 20) + "</fn>"
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "<lb>"+strings.Repeat("é", 20)+"</lb>") {
		t.Errorf("label not cut to 40 bytes:\n%s", out)
	}
}

// fanvilConfig fetches a Fanvil phone's config over HTTP and returns its dsskey section,
// keyed by path under sysConf/dsskey ("dssSide[1]/Fkey[3]/Value").
func fanvilConfig(t *testing.T, e *env, mac, model string) map[string]string {
	t.Helper()
	return xmlConfig(t, e, store.Phone{MAC: mac, Make: "fanvil", Model: model},
		"/"+mac+".cfg", "Fanvil "+model+" 2.12.10 "+mac, "sysConf/dsskey/")
}

// TestFanvilKeysFollowTheModel: a Fanvil phone's two lines and its user's ten keys fill
// the model's line keys beside the screen (<dssSide index="1">), then its function-key
// pages (<internal index="page">) of the model's size; the keys left are cleared (type
// 0), the phone is told how many pages to show, and nothing lands past the model's
// keys. A model without counts gets its lines beside the screen and the keys on the
// first page.
func TestFanvilKeysFollowTheModel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	withKeys(t, e, 10)

	x4u := fanvilConfig(t, e, "0c383e000401", "X4U")
	wantP(t, "X4U", x4u, map[string]string{
		"dssSide[1]/Fkey[1]/Type": "2", "dssSide[1]/Fkey[1]/Value": "SIP1", "dssSide[1]/Fkey[1]/Title": "201",
		"dssSide[1]/Fkey[2]/Type": "2", "dssSide[1]/Fkey[2]/Value": "SIP2",
		"dssSide[1]/Fkey[3]/Type": "1", "dssSide[1]/Fkey[3]/Value": "203@1/ba", "dssSide[1]/Fkey[3]/Title": "k1",
		"internal[1]/Fkey[1]/Type": "1", "internal[1]/Fkey[1]/Value": "+312000002@1/f", "internal[1]/Fkey[1]/Title": "k2",
		"internal[1]/Fkey[6]/Value": "203@1/ba", "internal[2]/Fkey[1]/Value": "+312000008@1/f", "internal[2]/Fkey[1]/Title": "k8",
		"internal[2]/Fkey[3]/Value": "+312000010@1/f",
		"internal[2]/Fkey[4]/Type":  "0", "internal[5]/Fkey[6]/Type": "0", // the rest of 5 pages of 6 cleared
		"FuncKeyPageNum": "2",
	})
	for _, p := range []string{"dssSide[1]/Fkey[4]/Type", "internal[6]/Fkey[1]/Type", "internal[1]/Fkey[7]/Type"} {
		if v, ok := x4u[p]; ok {
			t.Errorf("X4U: %s = %q, a key the model does not have", p, v)
		}
	}

	x6u := fanvilConfig(t, e, "0c383e000601", "X6U")
	wantP(t, "X6U", x6u, map[string]string{
		"dssSide[1]/Fkey[2]/Value": "SIP2", "dssSide[1]/Fkey[5]/Value": "203@1/ba", "dssSide[1]/Fkey[5]/Title": "k3",
		"internal[1]/Fkey[1]/Value": "+312000004@1/f", "internal[1]/Fkey[7]/Value": "+312000010@1/f",
		"internal[1]/Fkey[8]/Type": "0", "internal[5]/Fkey[12]/Type": "0", "FuncKeyPageNum": "1",
	})

	x3u := fanvilConfig(t, e, "0c383e000301", "X3U")
	wantP(t, "X3U", x3u, map[string]string{
		"dssSide[1]/Fkey[1]/Value": "SIP1", "dssSide[1]/Fkey[2]/Value": "SIP2",
		"internal[1]/Fkey[1]/Value": "203@1/ba", "internal[1]/Fkey[10]/Value": "+312000010@1/f",
	})
	for _, p := range []string{"dssSide[1]/Fkey[3]/Type", "internal[1]/Fkey[11]/Type", "FuncKeyPageNum"} {
		if v, ok := x3u[p]; ok {
			t.Errorf("X3U (no counts): %s = %q, want nothing", p, v)
		}
	}
}
