package provision

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dialtone/dialtone/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n%s", name, got)
	}
}

// TestRenderEveryMake renders each make's files for the sample phone, compares
// with the golden files and parses each back with its format's parser.
func TestRenderEveryMake(t *testing.T) {
	t.Parallel()
	r := NewRenderer(templates.FS, nil)
	for _, mk := range Makes {
		kinds := []Kind{KindCommon, KindPhone}
		switch mk {
		case Yealink:
			kinds = append(kinds, KindBoot)
		case Poly:
			kinds = append(kinds, KindMaster, KindOverride)
		}
		for _, kind := range kinds {
			p := SampleProfile(mk)
			if kind != KindPhone && kind != KindBoot {
				p = commonOnly(p)
			}
			out, err := r.Render(p, kind)
			if err != nil {
				t.Fatalf("%s %s: %v", mk, kind, err)
			}
			golden(t, string(mk)+"-"+string(kind), out)
			checkParsed(t, mk, kind, p, out)
		}
	}
}

// commonOnly strips what a file without a MAC must never carry.
func commonOnly(p *Profile) *Profile {
	c := *p
	c.MAC, c.Lines, c.AdminPassword = "", nil, ""
	c.Phonebook.BindPassword = ""
	return &c
}

func checkParsed(t *testing.T, mk Make, kind Kind, p *Profile, out []byte) {
	t.Helper()
	if kind != KindPhone && (bytes.Contains(out, []byte("s3cret")) || bytes.Contains(out, []byte("adm1n")) || bytes.Contains(out, []byte("pb-pass"))) {
		t.Errorf("%s %s carries a secret", mk, kind)
	}
	if mk == Yealink {
		kv, err := parseYealink(out)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", mk, kind, err, out)
		}
		switch kind {
		case KindPhone:
			want := map[string]string{
				"account.1.enable": "1", "account.1.display_name": "Anna de Vries", "account.1.auth_name": "acme-201",
				"account.1.password": "s3cret<&>", "account.1.sip_server.1.address": "acme.example",
				"account.1.sip_server.1.port": "5060", "account.2.sip_server.1.transport_type": "2",
				"account.2.sip_server.1.port": "5061", "account.1.srtp_encryption": "1",
				"account.3.enable": "0", "lang.gui": "Dutch", "local_time.time_zone": "+1",
				"local_time.start_time": "3/5/7/2", "local_time.end_time": "10/5/7/3",
				"ldap.user": "cn=phonebook,o=acme,dc=dialtone", "ldap.password": "pb-pass",
				"remote_phonebook.data.1.url": "http://pbx.example:8080/p/TOKEN/directory/yealink.xml",
				"static.firmware.url":         p.Firmware.URL, "static.security.user_password": "admin:adm1n",
				"sip.notify_reboot_enable": "0", "custom.key": "v",
				// Line keys for both lines, then the user's BLF and speed dial.
				"linekey.1.type": "15", "linekey.1.line": "1", "linekey.2.type": "15", "linekey.2.line": "2",
				"linekey.3.type": "16", "linekey.3.value": "203", "linekey.3.label": "Bea <&>", "linekey.3.line": "1",
				"linekey.4.type": "13", "linekey.4.value": "+31201234567", "linekey.4.label": "Desk", "linekey.5.type": "0",
			}
			for k, v := range want {
				if kv[k] != v {
					t.Errorf("yealink phone: %s = %q, want %q", k, kv[k], v)
				}
			}
		case KindBoot:
			if _, ok := kv["include:805ec0aabbcc.cfg"]; !ok {
				t.Errorf("boot file does not include the phone's file: %v", kv)
			}
		}
		return
	}
	doc, root, err := parseXML(out)
	if err != nil {
		t.Fatalf("%s %s: not well-formed: %v\n%s", mk, kind, err, out)
	}
	wantRoot := map[Make]string{Poly: "polycomConfig", Snom: "settings", Cisco: "flat-profile", Grandstream: "gs_provision", Fanvil: "sysConf"}[mk]
	switch {
	case mk == Poly && kind == KindMaster:
		wantRoot = "APPLICATION"
	case mk == Poly && kind == KindOverride:
		wantRoot = "PHONE_CONFIG"
	}
	if root != wantRoot {
		t.Errorf("%s %s: root %s, want %s", mk, kind, root, wantRoot)
	}
	if kind != KindPhone {
		return
	}
	var want map[string]string
	switch mk {
	case Poly:
		want = map[string]string{"polycomConfig/reg@reg.1.address": "201@acme.example", "polycomConfig/reg@reg.1.auth.password": "s3cret<&>",
			"polycomConfig/reg@reg.2.server.1.transport": "TLS", "polycomConfig/reg@reg.1.server.1.transport": "UDPOnly",
			"polycomConfig/sec@sec.srtp.offer": "1", "polycomConfig/sec@sec.srtp.require": "0", "polycomConfig/lcl@lcl.ml.lang": "Nederlands_Nederland",
			"polycomConfig/tcpIpApp@tcpIpApp.sntp.gmtOffset": "3600", "polycomConfig/tcpIpApp@tcpIpApp.sntp.daylightSavings.start.month": "3",
			"polycomConfig/dir@dir.corp.user": "cn=phonebook,o=acme,dc=dialtone", "polycomConfig/settings@custom.key": "v",
			"polycomConfig/voIpProt@voIpProt.SIP.specialEvent.checkSync.alwaysReboot": "0",
			"polycomConfig/attendant@attendant.resourceList.1.address":                "203@acme.example", "polycomConfig/attendant@attendant.resourceList.1.label": "Bea <&>",
			"polycomConfig/attendant@attendant.resourceList.1.type": "normal", "polycomConfig/attendant@attendant.resourceList.2.address": ""}
	case Snom:
		want = map[string]string{"settings/phone-settings/user_realname[1]": "Anna de Vries", "settings/phone-settings/user_pass[1]": "s3cret<&>",
			"settings/phone-settings/user_host[2]": "acme.example", "settings/phone-settings/language": "Nederlands",
			"settings/phone-settings/dst": "3600 03.05.07 02:00:00 10.05.07 03:00:00", "settings/phone-settings/utc_offset": "3600",
			"settings/phone-settings/ldap_password": "pb-pass", "settings/phone-settings/user_outbound[2]": "pbx.example:5061;transport=tls",
			"settings/phone-settings/user_srtp[1]": "on", "settings/phone-settings/user_savp[2]": "optional", "settings/phone-settings/user_active[3]": "off",
			"settings/firmware-settings/firmware": p.Firmware.URL, "settings/phone-settings/custom.key": "v",
			"settings/functionKeys/fkey[0]": "line", "settings/functionKeys/fkey[1]": "line", "settings/functionKeys/fkey[2]": "blf <sip:203@acme.example>",
			"settings/functionKeys/fkey[3]": "speed +31201234567", "settings/functionKeys/fkey[4]": "none", "settings/phone-settings/fkey_label[2]": "Bea <&>"}
	case Cisco:
		want = map[string]string{"flat-profile/Display_Name_1_": "Anna de Vries", "flat-profile/Password_1_": "s3cret<&>",
			"flat-profile/Proxy_2_": "acme.example", "flat-profile/SIP_Transport_2_": "TLS", "flat-profile/Outbound_Proxy_2_": "pbx.example:5061",
			"flat-profile/Secure_Call_Serv": "Yes", "flat-profile/Secure_Call_Option_1_": "Optional", "flat-profile/Language_Selection": "Dutch", "flat-profile/Time_Zone": "GMT+01:00",
			"flat-profile/Daylight_Saving_Time_Rule": "start=3/-1/7/2;end=10/-1/7/3;save=1", "flat-profile/Resync_Random_Delay": "600",
			"flat-profile/LDAP_Client_DN": "cn=phonebook,o=acme,dc=dialtone", "flat-profile/Upgrade_Rule": p.Firmware.URL, "flat-profile/key": "v",
			"flat-profile/Extension_1_": "1", "flat-profile/Extension_3_": "Disabled", "flat-profile/Short_Name_3_": "Bea <&>",
			"flat-profile/Extended_Function_3_": "fnc=blf+sd;sub=203@acme.example;nme=Bea <&>", "flat-profile/Extended_Function_4_": "fnc=sd;ext=+31201234567@acme.example;nme=Desk"}
	case Grandstream:
		want = map[string]string{"gs_provision/mac": "805ec0aabbcc", "gs_provision/config/P3": "Anna de Vries", "gs_provision/config/P34": "s3cret<&>",
			"gs_provision/config/P406": "pw2", "gs_provision/config/P130": "0", "gs_provision/config/P183": "1", "gs_provision/config/P403": "pbx.example:5061", "gs_provision/config/P1362": "nl", "gs_provision/config/P64": "CET-1CEST,M3.5.0,M10.5.0/3",
			"gs_provision/config/P8023": "cn=phonebook,o=acme,dc=dialtone", "gs_provision/config/key": "v",
			"gs_provision/config/P1367": "1", "gs_provision/config/P1469": "Bea <&>", "gs_provision/config/P1470": "203",
			"gs_provision/config/P1369": "0", "gs_provision/config/P1471": "Desk", "gs_provision/config/P1472": "+31201234567"}
	case Fanvil:
		want = map[string]string{"sysConf/sip/line[1]/DisplayName": "Anna de Vries", "sysConf/sip/line[1]/RegisterPswd": "s3cret<&>",
			"sysConf/sip/line[2]/Transport": "3", "sysConf/sip/line[2]/RegisterPort": "5061", "sysConf/sip/line[1]/MediaCrypto": "1", "sysConf/phone/display/DefaultLanguage": "nl", "sysConf/phone/date/DSTStartMon": "3",
			"sysConf/ldap/UserName": "cn=phonebook,o=acme,dc=dialtone", "sysConf/dialtone/key": "v",
			// Lines, then the user's keys, on the 4 keys beside the screen; the 4 left
			// on pages of 3 are cleared (type 0).
			"sysConf/dsskey/dssSide[1]/Fkey[1]/Type": "2", "sysConf/dsskey/dssSide[1]/Fkey[1]/Value": "SIP1",
			"sysConf/dsskey/dssSide[1]/Fkey[2]/Value": "SIP2", "sysConf/dsskey/dssSide[1]/Fkey[3]/Type": "1",
			"sysConf/dsskey/dssSide[1]/Fkey[3]/Value": "203@1/ba", "sysConf/dsskey/dssSide[1]/Fkey[3]/Title": "Bea <&>",
			"sysConf/dsskey/dssSide[1]/Fkey[4]/Value": "+31201234567@1/f", "sysConf/dsskey/FuncKeyPageNum": "1",
			"sysConf/dsskey/internal[1]/Fkey[3]/Type": "0", "sysConf/dsskey/internal[2]/Fkey[1]/Type": "0"}
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s phone: %s = %q, want %q", mk, k, doc[k], v)
		}
	}
}

// TestSettingsMostSpecificWins: tenant < model < phone, and a key the
// template writes is replaced in place, not written twice.
func TestSettingsMostSpecificWins(t *testing.T) {
	t.Parallel()
	p := SampleProfile(Yealink)
	p.Settings = MergeSettings(
		map[string]string{"lang.gui": "English", "a.b": "tenant", "x.y": "tenant"},
		map[string]string{"a.b": "model"},
		map[string]string{"x.y": "phone", "bad key": "dropped", "evil": "1\naccount.1.password = stolen"},
	)
	out, err := NewRenderer(templates.FS, nil).Render(p, KindPhone)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := parseYealink(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for k, v := range map[string]string{"lang.gui": "English", "lang.wui": "Dutch", "a.b": "model", "x.y": "phone",
		"evil": "1account.1.password = stolen", "account.1.password": "s3cret<&>"} {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	if _, ok := kv["bad key"]; ok {
		t.Error("invalid key rendered")
	}
}

// TestOverrideWins: a file of the same name in the override directory wins,
// also per model; Drop makes a changed override show.
func TestOverrideWins(t *testing.T) {
	t.Parallel()
	over := fstest.MapFS{"yealink-common.tmpl": {Data: []byte("#!version:1.0.0.1\nmine = {{.Tenant}}\n")}}
	r := NewRenderer(templates.FS, over)
	p := commonOnly(SampleProfile(Yealink))
	out, err := r.Render(p, KindCommon)
	if err != nil || string(out) != "#!version:1.0.0.1\nmine = acme\n" {
		t.Fatalf("override not used: %q %v", out, err)
	}
	over["yealink-t46u-common.tmpl"] = &fstest.MapFile{Data: []byte("#!version:1.0.0.1\nmodel = {{.Model}}\n")}
	r.Drop()
	p.Model = "T46U"
	out, _ = r.Render(p, KindCommon)
	if string(out) != "#!version:1.0.0.1\nmodel = T46U\n" {
		t.Fatalf("model template not used: %q", out)
	}
}

func TestRenderErrorNoPartialFile(t *testing.T) {
	t.Parallel()
	over := fstest.MapFS{"yealink-common.tmpl": {Data: []byte("#!version:1.0.0.1\na = 1\n{{.NoSuchField}}\n")}}
	out, err := NewRenderer(templates.FS, over).Render(commonOnly(SampleProfile(Yealink)), KindCommon)
	if err == nil || out != nil {
		t.Fatalf("want error and no bytes, got %q, %v", out, err)
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	if err := CheckTemplate("yealink-phone.tmpl", []byte("#!version:1.0.0.1\n\n{{if .MAC}\n")); err == nil || !strings.Contains(err.Error(), ":3:") {
		t.Fatalf("want a parse error naming line 3, got %v", err)
	}
	if err := CheckTemplate("cisco-phone.tmpl", []byte("<a>\n{{.Nope}}</a>")); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("want an execution error naming line 2, got %v", err)
	}
	if err := CheckTemplate("../x.tmpl", []byte("x")); err == nil {
		t.Fatal("bad name accepted")
	}
	entries, _ := templates.FS.ReadDir(".")
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".tmpl") {
			continue
		}
		b, _ := templates.FS.ReadFile(e.Name())
		if err := CheckTemplate(e.Name(), b); err != nil {
			t.Errorf("embedded %s: %v", e.Name(), err)
		}
	}
}

func TestEveryLanguageMapsForEveryMake(t *testing.T) {
	t.Parallel()
	for _, code := range Languages {
		for _, mk := range Makes {
			if n := languageNames[code][mk]; n == "" {
				t.Errorf("%s has no name for %s", mk, code)
			}
		}
		if code != "en" && LanguageName(Yealink, code) == "English" {
			t.Errorf("yealink %s falls back to English", code)
		}
	}
	if LanguageName(Snom, "nl-BE") != "Nederlands" || LanguageName(Poly, "xx") != "English_United_States" || LanguageName(Cisco, "no") != "Norwegian" {
		t.Error("region suffix, unknown language or alias mapped wrong")
	}
}
