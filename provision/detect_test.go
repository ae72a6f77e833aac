package provision

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/templates"
)

func catalogue(t testing.TB) *Catalogue {
	c, err := LoadCatalogue(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseFileName(t *testing.T) {
	t.Parallel()
	c := catalogue(t)
	cases := []struct {
		name  string
		kind  Kind
		makes string
		model string
		mac   string
	}{
		{"y000000000000.boot", KindBoot, "yealink", "", ""},
		{"805ec0aabbcc.boot", KindBoot, "yealink", "", "805ec0aabbcc"},
		{"y000000000096.cfg", KindCommon, "yealink", "T54W", ""},
		{"y000000000000.cfg", KindCommon, "yealink", "", ""},
		{"805ec0aabbcc.cfg", KindPhone, "yealink,poly,fanvil", "", "805ec0aabbcc"},
		{"000000000000.cfg", KindMaster, "poly", "", ""},
		{"0004f2aabbcc-user.cfg", KindPhone, "poly", "", "0004f2aabbcc"},
		{"0004f2aabbcc-phone.cfg", KindOverride, "poly", "", "0004f2aabbcc"},
		{"0004f2aabbcc-directory.xml", KindDirectory, "poly", "", "0004f2aabbcc"},
		{"common.cfg", KindCommon, "poly", "", ""},
		{"snomD785.htm", KindCommon, "snom", "D785", ""},
		{"snomD799.htm", KindCommon, "snom", "D799", ""},
		{"snomD785-000413ABCDEF.htm", KindPhone, "snom", "D785", "000413abcdef"},
		{"000413ABCDEF.xml", KindPhone, "snom", "", "000413abcdef"},
		{"00562b043615.xml", KindPhone, "cisco", "", "00562b043615"},
		{"000413123456.xml", KindPhone, "cisco,snom", "", "000413123456"},
		{"cp-8841-3pcc.xml", KindCommon, "cisco", "8841", ""},
		{"cp-6871-3pcc.xml", KindCommon, "cisco", "6871", ""},
		{"cfgc074ad010203.xml", KindPhone, "grandstream", "", "c074ad010203"},
		{"cfgc074ad010203", KindPhone, "grandstream", "", "c074ad010203"},
		{"cfg.xml", KindCommon, "grandstream", "", ""},
		{"F0V00X4U0000.cfg", KindCommon, "fanvil", "X4U", ""},
	}
	for _, tc := range cases {
		r, ok := c.ParseFileName(tc.name)
		if !ok {
			t.Errorf("%s: refused", tc.name)
			continue
		}
		var makes []string
		for _, m := range r.Makes {
			makes = append(makes, string(m))
		}
		if r.Kind != tc.kind || strings.Join(makes, ",") != tc.makes || r.Model != tc.model || r.MAC != tc.mac {
			t.Errorf("%s: got %+v", tc.name, r)
		}
	}
	for _, bad := range []string{"", "..", "../etc/passwd", "/etc/passwd", "a/b.cfg", "805ec0aabbcc.cfg\x00", "805EC0AABBCC.cfg",
		"805ec0aabbc.cfg", "x.cfg", "snom.htm", "cp--3pcc.xml", "y0000000000ab.cfg", ".805ec0aabbcc.cfg", "cfg000000000000.xml",
		"805ec0aabbcc.cfg.bak", strings.Repeat("a", 200)} {
		if r, ok := c.ParseFileName(bad); ok {
			t.Errorf("%q accepted: %+v", bad, r)
		}
	}
}

func TestParseUserAgent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ua   string
		want UserAgent
	}{
		{"Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc", UserAgent{Yealink, "T46U", "108.86.0.20", "805ec0aabbcc"}},
		{"Yealink SIP-T54W 96.86.0.100", UserAgent{Yealink, "T54W", "96.86.0.100", ""}},
		{"FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018", UserAgent{Poly, "VVX450", "6.4.3.5018", ""}},
		{"FileTransport Poly/Edge_E450-UA/8.0.1.1234", UserAgent{Poly, "EdgeE450", "8.0.1.1234", ""}},
		{"Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)", UserAgent{Snom, "D785", "10.1.54.13", ""}},
		{"Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 000413ABCDEF)", UserAgent{Snom, "D785", "10.1.54.13", "000413abcdef"}},
		{"Cisco-CP8841-3PCC/11.3.7 (00562b043615)", UserAgent{Cisco, "8841", "11.3.7", "00562b043615"}},
		{"Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203", UserAgent{Grandstream, "GRP2614", "1.0.5.33", "c074ad010203"}},
		{"Fanvil X4U 2.12.10 0c383e07e16c", UserAgent{Fanvil, "X4U", "2.12.10", "0c383e07e16c"}},
		{"Fanvil X6U Pro 0.0.10 0c383e2cd782", UserAgent{Fanvil, "X6U-PRO", "0.0.10", "0c383e2cd782"}},
		{"curl/8.0", UserAgent{}},
		{"Yealink", UserAgent{Make: Yealink}},
		{"Cisco-", UserAgent{Make: Cisco}},
	}
	for _, tc := range cases {
		if got := ParseUserAgent(tc.ua); got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.ua, got, tc.want)
		}
	}
}

func TestIdentifyOrder(t *testing.T) {
	t.Parallel()
	c := catalogue(t)
	r, _ := c.ParseFileName("805ec0aabbcc.cfg") // Yealink OUI
	if Identify(r, Fanvil, UserAgent{Make: Poly}) != Fanvil {
		t.Error("record must win")
	}
	if Identify(r, "", UserAgent{Make: Poly}) != Poly {
		t.Error("UA must win over OUI")
	}
	if Identify(r, "", UserAgent{}) != Yealink {
		t.Error("OUI must decide last")
	}
	if Identify(r, "", UserAgent{Make: Cisco}) != Yealink {
		t.Error("a UA of a make that never asks this name must not decide")
	}
	r2, _ := c.ParseFileName("112233445566.cfg")
	if Identify(r2, "", UserAgent{}) != "" {
		t.Error("unknown OUI without UA must stay undecided")
	}
}

func TestNormalizeMAC(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"80:5E:C0:AA:BB:CC": "805ec0aabbcc", "80-5e-c0-aa-bb-cc": "805ec0aabbcc",
		"805E.C0AA.BBCC": "805ec0aabbcc", "805ec0aabbcc": "805ec0aabbcc"} {
		if got, ok := NormalizeMAC(in); !ok || got != want {
			t.Errorf("%s: %s %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "805ec0aabbc", "805ec0aabbccd", "80:5e:c0:aa:bb:c", "80:5e-c0:aa:bb:cc", "8:05e:c0:aa:bb:cc",
		"000000000000", "zz5ec0aabbcc", "805ec0aa:bbcc"} {
		if got, ok := NormalizeMAC(bad); ok {
			t.Errorf("%q accepted as %s", bad, got)
		}
	}
	if MakeFromOUI("0004f2aabbcc") != Poly || MakeFromOUI("112233445566") != "" {
		t.Error("OUI lookup")
	}
}

func FuzzParseFileName(f *testing.F) {
	c := catalogue(f)
	for _, s := range []string{"805ec0aabbcc.cfg", "snomD785-000413ABCDEF.htm", "cp-8841-3pcc.xml", "../x", "cfgc074ad010203", "y000000000096.cfg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		r, ok := c.ParseFileName(name)
		if !ok {
			return
		}
		if strings.ContainsAny(name, "/\\\x00") || strings.Contains(name, "..") || len(r.Makes) == 0 {
			t.Fatalf("%q accepted: %+v", name, r)
		}
		if r.MAC != "" {
			if m, ok := NormalizeMAC(r.MAC); !ok || m != r.MAC {
				t.Fatalf("%q: MAC %q not canonical", name, r.MAC)
			}
		}
	})
}

func FuzzParseUserAgent(f *testing.F) {
	for _, s := range []string{"Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018",
		"Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)", "Cisco-CP8841-3PCC/11.3.7 (00562b043615)",
		"Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203", "Fanvil X6U Pro 0.0.10 0c383e2cd782", "snom-SIP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		u := ParseUserAgent(ua)
		if u.MAC != "" {
			if m, ok := NormalizeMAC(u.MAC); !ok || m != u.MAC {
				t.Fatalf("%q: MAC %q not canonical", ua, u.MAC)
			}
		}
		if u.Model != "" && !isModelToken(u.Model) && !strings.HasPrefix(u.Model, "EdgeE") {
			t.Fatalf("%q: model %q", ua, u.Model)
		}
	})
}

func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"80:5E:C0:AA:BB:CC", "805e.c0aa.bbcc", "000000000000", "80-5e-c0-aa-bb-cc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := NormalizeMAC(s)
		if !ok {
			return
		}
		if !isHex12(m, false) || m == "000000000000" {
			t.Fatalf("%q → %q", s, m)
		}
		if again, ok := NormalizeMAC(m); !ok || again != m {
			t.Fatalf("%q not idempotent", s)
		}
	})
}
