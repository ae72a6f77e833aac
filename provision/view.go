package provision

import (
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"
)

// view is what a template sees: the Profile plus the make's names for its
// language and time zone, and the raw settings.
type view struct {
	*Profile
	Lang     string // the make's name for Profile.Language
	TZ       Zone
	MACUpper string
	set      *settingSet
}

func newView(p *Profile) (*view, error) {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	z, err := LoadZone(p.TimeZone, now.Year())
	if err != nil {
		return nil, err
	}
	for i := range p.Lines {
		if p.Lines[i].Index == 0 {
			p.Lines[i].Index = i + 1
		}
	}
	for i := range p.Keys {
		if p.Keys[i].Position == 0 {
			p.Keys[i].Position = len(p.Lines) + i + 1
		}
	}
	return &view{Profile: p, Lang: LanguageName(p.Make, p.Language), TZ: z, MACUpper: MACUpper(p.MAC),
		set: &settingSet{m: p.Settings, used: map[string]bool{}}}, nil
}

// settingSet tracks which raw settings a template wrote in place.
type settingSet struct {
	m    map[string]string
	used map[string]bool
}

// Set is the value of key: the raw setting when the admin set one, else def.
func (v *view) Set(key string, def any) string {
	if s, ok := v.set.m[key]; ok {
		v.set.used[key] = true
		return s
	}
	if def == nil {
		return ""
	}
	return fmt.Sprint(def)
}

// Y is a Yealink "key = value" line with the raw setting applied.
func (v *view) Y(key string, def any) string { return KV{key, v.Set(key, def)}.Y() }

// A is a Poly attribute ` key="value"` with the raw setting applied.
func (v *view) A(key string, def any) string { return " " + KV{key, v.Set(key, def)}.A() }

// E is an XML element <key>value</key> with the raw setting applied.
func (v *view) E(key string, def any) string { return KV{key, v.Set(key, def)}.E() }

// S is a Snom element with the raw setting applied; key "name[idx]" gives
// <name idx="idx" perm="">.
func (v *view) S(key string, def any) string { return KV{key, v.Set(key, def)}.S() }

// Rest is every raw setting the template did not write, sorted by key. Call it
// at the end of the template.
func (v *view) Rest() []KV {
	var out []KV
	for k, val := range v.set.m {
		if !v.set.used[k] && validKey(k) {
			out = append(out, KV{k, val})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// KV is one raw setting.
type KV struct{ Key, Value string }

// Y: Yealink line; value kept on one line.
func (kv KV) Y() string { return kv.Key + " = " + oneLine(kv.Value) }

// A: Poly attribute.
func (kv KV) A() string { return kv.Key + `="` + xmlEscape(kv.Value) + `"` }

// E: XML element named by the key's last dotted part.
func (kv KV) E() string {
	n := kv.Key
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		n = n[i+1:]
	}
	return "<" + n + ">" + xmlEscape(kv.Value) + "</" + n + ">"
}

// S: Snom element.
func (kv KV) S() string {
	n, idx := kv.Key, ""
	if i := strings.IndexByte(n, '['); i > 0 && strings.HasSuffix(n, "]") {
		n, idx = n[:i], n[i+1:len(n)-1]
	}
	if idx != "" {
		return "<" + n + ` idx="` + xmlEscape(idx) + `" perm="">` + xmlEscape(kv.Value) + "</" + n + ">"
	}
	return "<" + n + ` perm="">` + xmlEscape(kv.Value) + "</" + n + ">"
}

// validKey: a setting name every make's syntax can carry: starts with a
// letter, then letters, digits, '.', '_', '-', and one optional [idx] suffix.
func validKey(k string) bool {
	if len(k) == 0 || len(k) > 128 {
		return false
	}
	if i := strings.IndexByte(k, '['); i > 0 {
		if !strings.HasSuffix(k, "]") || !allDigits(k[i+1:len(k)-1]) {
			return false
		}
		k = k[:i]
	}
	c := k[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return !strings.HasSuffix(k, ".")
}

var funcs = template.FuncMap{
	"xml": xmlEscape,
	// pemxml is a PEM block for an XML attribute or element: each line escaped, the
	// line breaks as character references (an attribute's literal ones would be read
	// as spaces, XML 1.0 section 3.3.3).
	"pemxml": func(pem string) string {
		lines := strings.Split(strings.TrimSpace(pem), "\n")
		for i, l := range lines {
			lines[i] = xmlEscape(l)
		}
		return strings.Join(lines, "&#10;") + "&#10;"
	},
	"cfg": oneLine,
	"add": func(a, b int) int { return a + b },
	"mul": func(a, b int) int { return a * b },
	"div": func(a, b int) int {
		if b == 0 {
			return 0
		}
		return a / b
	},
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"yesno": func(b bool) string {
		if b {
			return "Yes"
		}
		return "No"
	},
	"onoff": func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	},
	"bit": func(b bool) int {
		if b {
			return 1
		}
		return 0
	},
}

// oneLine drops control characters so a value can never start a new
// "key = value" line (a display name is user input).
func oneLine(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// xmlEscape escapes for element text and attribute values and drops
// characters XML 1.0 forbids.
func xmlEscape(s string) string {
	return xmlReplacer.Replace(strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f || r == 0xfffe || r == 0xffff {
			return -1
		}
		return r
	}, s))
}

// Spare lists the line numbers after the profile's lines up to max, so a
// template can switch off accounts a phone kept from an earlier config.
func (v *view) Spare(max int) []int {
	var out []int
	for i := len(v.Lines) + 1; i <= max; i++ {
		out = append(out, i)
	}
	return out
}

// GSP is the Grandstream P-value number of a line setting (accounts 1..4;
// docs/vendors.md; accounts 2..4 follow the P4xx/P5xx/P6xx blocks of the GXP/GRP
// admin guides). 0 when the account or field has none.
func (v *view) GSP(line int, field string) int {
	if line == 1 {
		return map[string]int{"enable": 271, "label": 270, "display": 3, "user": 35, "auth": 36,
			"password": 34, "server": 47, "proxy": 48, "expires": 32, "transport": 130}[field]
	}
	if line < 2 || line > 4 {
		return 0
	}
	off := map[string]int{"enable": 1, "server": 2, "proxy": 3, "user": 4, "auth": 5, "password": 6,
		"display": 7, "label": 17}[field]
	if off == 0 {
		return 0
	}
	return 400 + (line-2)*100 + off
}
