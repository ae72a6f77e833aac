package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// TestUserKeysInEveryMakesConfig: PUT …/users/{id}/keys is checked (a BLF key watches
// an extension of the tenant; 60 keys at most; the user or a users.manage holder only),
// and each make's config of the user's phones, fetched over HTTP, carries the line keys
// and then the BLF and speed-dial keys in that make's syntax (cmd/dialtone's
// TestFlexPhoneShowsUserKeys covers a flex phone).
func TestUserKeysInEveryMakesConfig(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	anna := pe.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "A",
		"extensions": []string{"201"}, "pin": "246813"}).json(t)
	pe.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bea", "last_name": "B", "extensions": []string{"203"}})
	path := "/api/v1/tenants/default/users/" + anna["id"].(string) + "/keys"

	// Checked input.
	for _, bad := range []struct {
		body  any
		field string
	}{
		{[]map[string]string{{"type": "blf", "value": "299"}}, "keys[0].value"},
		{[]map[string]string{{"type": "speed_dial", "value": "12a"}}, "keys[0].value"},
		{[]map[string]string{{"type": "blf", "value": "203"}, {"type": "park", "value": "1"}}, "keys[1].type"},
		{[]map[string]string{{"type": "blf", "value": "203", "label": strings.Repeat("x", 33)}}, "keys[0].label"},
		{make([]map[string]string, 61), "keys"},
	} {
		if x := pe.do(tok, "PUT", path, bad.body); x.status != 400 || x.errField() != bad.field {
			t.Errorf("PUT %v: %d %s, want 400 on %s", bad.body, x.status, x.body, bad.field)
		}
	}
	other := pe.user(store.DefaultTenant, store.RoleUser, "")
	if x := pe.do(pe.session(other), "PUT", path, []any{}); x.status != 403 {
		t.Errorf("another user changes Anna's keys: %d", x.status)
	}
	keys := []map[string]string{{"type": "blf", "value": "203", "label": "Bea"}, {"type": "speed_dial", "value": "+31201234567", "label": "Desk"}}
	pe.must(200, tok, "PUT", path, keys)
	if got := string(pe.must(200, tok, "GET", path, nil).body); !strings.Contains(got, `"value":"203"`) || !strings.Contains(got, `"speed_dial"`) {
		t.Fatalf("GET keys: %s", got)
	}

	phones := []struct{ model, mac, ua, file string }{
		{"T46U", "805ec0000201", "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:02:01", "805ec0000201.cfg"},
		{"VVX450", "0004f2000201", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018", "0004f2000201-user.cfg"},
		{"D785", "000413000201", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)", "000413000201.xml"},
		{"8841", "00562b000201", "Cisco-CP8841-3PCC/11.3.7 (00562b000201)", "00562b000201.xml"},
		{"GRP2614", "c074ad000201", "Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad000201", "cfgc074ad000201.xml"},
		{"X4U", "0c383e000201", "Fanvil X4U 2.12.10 0c383e000201", "0c383e000201.cfg"},
	}
	want := map[string][]string{
		"T46U":    {"linekey.1.type = 15", "linekey.2.type = 16", "linekey.2.value = 203", "linekey.2.label = Bea", "linekey.3.type = 13", "linekey.3.value = +31201234567"},
		"VVX450":  {`attendant.resourceList.1.address="203@`, `attendant.resourceList.1.label="Bea"`},
		"D785":    {`<fkey idx="0" context="1" perm="">line</fkey>`, `<fkey idx="1" context="1" perm="">blf &lt;sip:203@`, `<fkey idx="2" context="1" perm="">speed +31201234567</fkey>`},
		"8841":    {"<Extended_Function_2_>fnc=blf+sd;sub=203@", ";nme=Bea</Extended_Function_2_>", "<Extended_Function_3_>fnc=sd;ext=+31201234567@"},
		"GRP2614": {"<P1363>31</P1363>", "<P1365>1</P1365>", "<P1468>203</P1468>", "<P1367>0</P1367>", "<P1470>+31201234567</P1470>"},
		"X4U":     {"<Value>SIP1</Value>", "<Value>203@1/ba</Value>", "<Title>Bea</Title>", "<Value>+31201234567@1/f</Value>"},
	}
	fetch := func(ua, file string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", pe.phoneURL+"/p/"+pe.token+"/"+file, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := pe.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", file, resp.StatusCode, b)
		}
		return string(b)
	}
	for _, ph := range phones {
		pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": ph.mac, "model": ph.model, "user_id": anna["id"]})
		cfg := fetch(ph.ua, ph.file)
		for _, w := range want[ph.model] {
			if !strings.Contains(cfg, w) {
				t.Errorf("%s config lacks %q:\n%s", ph.model, w, cfg)
			}
		}
	}
	// Poly's speed dial is a contact with a speed-dial index in its directory.
	if dir := fetch(phones[1].ua, "0004f2000201-directory.xml"); !strings.Contains(dir, "<ct>+31201234567</ct><sd>1</sd><lb>Desk</lb>") {
		t.Errorf("Poly directory lacks the speed dial:\n%s", dir)
	}
	// Keys removed: gone from the config at once (the Yealink key is cleared).
	pe.must(200, tok, "PUT", path, []any{})
	if cfg := fetch(phones[0].ua, phones[0].file); strings.Contains(cfg, "linekey.2.value") || !strings.Contains(cfg, "linekey.2.type = 0") {
		t.Errorf("after the keys were removed:\n%s", cfg)
	}
}
