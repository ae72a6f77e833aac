package provision

import (
	"fmt"
	"strings"
)

// Programmable keys: each of the user's extensions on a line key first, then the user's
// BLF and speed-dial keys (store.PhoneKey) in each make's key syntax. The templates
// call these helpers; the key codes come from each make's administrator guide:
//
//   - Yealink: linekey.N.type 15 line, 16 BLF, 13 speed dial, with .value, .label and
//     .line (the account, 1-based) (Yealink T4x/T5x administrator guide, "Line Keys").
//   - Snom: fkey idx (0-based) "line", "blf <sip:201@domain>", "speed 201", with
//     fkey_label (Snom wiki, "fkey" and "Function keys").
//   - Poly: attendant.resourceList.N.address/.label/.type=normal for BLF (UC Software
//     administrator guide, "Busy Lamp Field"); speed dials are contacts with a
//     speed-dial index (sd) in the phone's contact directory {mac}-directory.xml
//     (polydir.go), which the phone puts on the line keys left free.
//   - Cisco SPA/MPP: Extended_Function_N_ "fnc=blf+sd;sub=201@domain;nme=…" on a line
//     key whose Extension_N_ is Disabled, "fnc=sd;ext=201@domain;nme=…" for a speed
//     dial (Cisco SPA500 administration guide, "Line Key Extended Function").
//   - Grandstream: the model's virtual multi-purpose keys (line keys and their
//     pages), then its physical multi-purpose keys, then its extension boards' keys,
//     each with a mode, account, name and value P-value (GSKeys; Grandstream's
//     configuration templates, see GSKeys).
//   - Fanvil (sysConf XML): DSS keys <Fkey index="n"> with Type 2 (line, value SIPn), 1
//     (memory key: "201@1/ba" BLF, "201@1/f" speed dial, "{number}@{line}/{mode}") or 0
//     (none), and Title; line keys beside the screen in <dssSide index="1">, the keys
//     of the function-key pages in <internal index="page"> (FanvilKeys). Sources: the
//     Fanvil plugin of wazo-provd (wazo-platform/wazo-provd-plugins,
//     plugins/wazo_fanvil/common/common.py and templates/base-new.tpl) and FusionPBX's
//     Fanvil templates (fusionpbx/fusionpbx, resources/templates/provision/fanvil/
//     {x4u,x5u,x6u,x7}/{$mac}.cfg, app/devices/app_config.php).

// IsBLF tells a BLF key from a speed dial.
func (k Key) IsBLF() bool { return k.Type == "blf" }

// YealinkType is the linekey.N.type of the key.
func (k Key) YealinkType() int {
	if k.IsBLF() {
		return 16
	}
	return 13
}

// SnomFkey is the fkey value of the key.
func (k Key) SnomFkey() string {
	if k.IsBLF() {
		return "blf <sip:" + k.Value + "@" + k.Domain + ">"
	}
	return "speed " + k.Value
}

// CiscoFunction is the Extended_Function_N_ of the key (a ';' in the label would end
// the name: it becomes ',').
func (k Key) CiscoFunction() string {
	name := strings.ReplaceAll(k.Label, ";", ",")
	if k.IsBLF() {
		return "fnc=blf+sd;sub=" + k.Value + "@" + k.Domain + ";nme=" + name
	}
	return "fnc=sd;ext=" + k.Value + "@" + k.Domain + ";nme=" + name
}

// FanvilValue is the memory key's Value: the number, the account (the phone's first
// line) and the mode, "ba" BLF (a press picks up or calls) or "f" speed dial.
func (k Key) FanvilValue() string {
	if k.IsBLF() {
		return k.Value + "@1/ba"
	}
	return k.Value + "@1/f"
}

// FanvilKey is one DSS key of a Fanvil phone: its index on its page and what it is.
type FanvilKey struct {
	Index int
	Type  int // 2 line, 1 memory key (BLF, speed dial), 0 none
	Value string
	Title string
}

// FanvilPage is one function-key page, <internal index="Index">.
type FanvilPage struct {
	Index int
	Keys  []FanvilKey
}

// FanvilLayout is a Fanvil phone's keys as its template writes them: the line keys
// beside the screen (<dssSide index="1">), then the function-key pages, and how many
// pages the phone shows (FuncKeyPageNum; 0: not written).
type FanvilLayout struct {
	Side    []FanvilKey
	Pages   []FanvilPage
	PageNum int
}

// FanvilKeys lays the phone's lines, then the user's keys, over the model's DSS keys
// in order: its line keys beside the screen (fixed_keys in models.csv), then its
// function-key pages of page_keys keys each, up to keys in all. Keys past those are
// left out; every key left over is cleared (type 0), so a key removed since the last
// config does not stay. The phone shows as many pages as hold a line or a key (at
// least one). A model without counts gets its lines beside the screen and the user's
// keys on the first function-key page, nothing cleared.
func (v *view) FanvilKeys() FanvilLayout {
	type entry struct {
		typ          int
		value, title string
	}
	var all []entry
	for _, l := range v.Lines {
		all = append(all, entry{2, fmt.Sprintf("SIP%d", l.Index), l.Label})
	}
	for _, k := range v.Keys {
		all = append(all, entry{1, k.FanvilValue(), k.Label})
	}
	l := v.Layout
	var out FanvilLayout
	if l.Keys == 0 || l.PageKeys == 0 {
		page := FanvilPage{Index: 1}
		for i, e := range all {
			if i < len(v.Lines) {
				out.Side = append(out.Side, FanvilKey{len(out.Side) + 1, e.typ, e.value, e.title})
			} else {
				page.Keys = append(page.Keys, FanvilKey{len(page.Keys) + 1, e.typ, e.value, e.title})
			}
		}
		if len(page.Keys) > 0 {
			out.Pages = []FanvilPage{page}
		}
		return out
	}
	total := min(l.Keys, fanvilMaxKeys)
	for n := 1; n <= total; n++ {
		k := FanvilKey{}
		if n <= len(all) {
			e := all[n-1]
			k.Type, k.Value, k.Title = e.typ, e.value, e.title
		}
		if n <= l.FixedKeys {
			k.Index = n
			out.Side = append(out.Side, k)
			continue
		}
		m := n - l.FixedKeys - 1
		page := m/l.PageKeys + 1
		k.Index = m%l.PageKeys + 1
		if len(out.Pages) < page {
			out.Pages = append(out.Pages, FanvilPage{Index: page})
		}
		out.Pages[page-1].Keys = append(out.Pages[page-1].Keys, k)
	}
	if len(out.Pages) > 0 {
		used := max(len(all)-l.FixedKeys, 1)
		out.PageNum = min((used+l.PageKeys-1)/l.PageKeys, len(out.Pages))
	}
	return out
}

// fanvilMaxKeys bounds the DSS keys written for a model (the X7's 11 beside the
// screen and four pages of 29 are 127).
const fanvilMaxKeys = 256

// GSKey is one programmable key of a Grandstream phone as its template writes it: the
// P-values of its mode, account, name and value, and what goes in them.
type GSKey struct {
	ModeP, AccountP, NameP, ValueP int
	Mode                           int
	Account                        int // 0 for the phone's first account
	Name, Value                    string
	None                           bool // an empty key: only its mode (-1, none) is written
}

// Grandstream key limits of the configuration templates: VPK 49 on would collide with
// the VPKs' "locked" P-values, and there are 24 physical MPKs and 4 boards of 40 keys.
const (
	gsMaxVPK = 48
	gsMaxMPK = 24
	gsMaxEXT = 160
)

// GSKeys lays the phone's lines, then the user's keys, over the model's keys in
// order: its virtual multi-purpose keys (VPK, the line keys and their pages; fixed
// ones first), its physical multi-purpose keys (MPK) and its extension boards' keys
// (EXT), each up to the counts of the model's row in models.csv. A line goes on a
// fixed VPK in line mode ("Default") with its account; a fixed VPK left over stays a
// line key of the first account; every other key left over is cleared (mode -1), in
// sequence, since a dynamic VPK skipped removes the ones after it. Keys past the
// model's count are left out; a model without counts gets none.
//
// Modes (Grandstream configuration templates for GXP2130/2135/2140/2160/2170 firmware
// 1.0.11.16 and GRP261x 1.0.5.15): on the GXP line's fixed VPKs 0 line, 10 speed dial,
// 11 BLF; on GRP fixed VPKs 31 line; everywhere else 0 speed dial, 1 BLF; -1 none.
func (v *view) GSKeys() []GSKey {
	l := v.Layout
	vpk, mpk, ext := min(l.Keys, gsMaxVPK), min(l.SideKeys, gsMaxMPK), min(l.ExtKeys, gsMaxEXT)
	gxp := strings.EqualFold(l.Family, "GXP")
	out := make([]GSKey, 0, vpk+mpk+ext)
	for n := 1; n <= vpk+mpk+ext; n++ {
		k := gsSlot(n, vpk, mpk)
		fixed := n <= l.FixedKeys
		switch {
		case n <= len(v.Lines) && fixed:
			k.Mode, k.Account, k.Name = gsLineMode(gxp), v.Lines[n-1].Index-1, v.Lines[n-1].Label
		case n > len(v.Lines) && n <= len(v.Lines)+len(v.Keys):
			key := v.Keys[n-len(v.Lines)-1]
			k.Mode, k.Name, k.Value = gsKeyMode(key, fixed && gxp), key.Label, key.Value
		case fixed:
			k.Mode = gsLineMode(gxp)
		default:
			k.Mode, k.None = -1, true
		}
		out = append(out, k)
	}
	return out
}

// gsSlot is the P-values of the n-th key (1-based) of a phone with vpk VPKs and mpk
// MPKs, the rest on extension boards.
func gsSlot(n, vpk, mpk int) GSKey {
	base := func(b int) GSKey { return GSKey{ModeP: b, AccountP: b + 1, NameP: b + 2, ValueP: b + 3} }
	switch {
	case n <= 6 && n <= vpk: // VPK 1-6: P1363/P1364 mode and account, P1465/P1466 name and value
		return GSKey{ModeP: 1363 + 2*(n-1), AccountP: 1364 + 2*(n-1), NameP: 1465 + 2*(n-1), ValueP: 1466 + 2*(n-1)}
	case n <= vpk: // VPK 7-48: P23800 on, four each
		return base(23800 + 4*(n-7))
	}
	m := n - vpk
	switch {
	case m <= 7 && m <= mpk: // MPK 1-7: P323-P329 modes, P301 on account, name, value
		return GSKey{ModeP: 322 + m, AccountP: 301 + 3*(m-1), NameP: 302 + 3*(m-1), ValueP: 303 + 3*(m-1)}
	case m <= 18 && m <= mpk: // MPK 8-18: P353 on, four each
		return base(353 + 4*(m-8))
	case m <= mpk: // MPK 19-24: P1440 on, four each
		return base(1440 + 4*(m-19))
	}
	e := m - mpk // EXT MPK 1-160: P23000 on, five each (the fifth is not written)
	return base(23000 + 5*(e-1))
}

// gsLineMode is the line-key mode of a fixed VPK: 0 ("Default") on the GXP line, 31 on
// GRP.
func gsLineMode(gxp bool) int {
	if gxp {
		return 0
	}
	return 31
}

// gsKeyMode is a BLF or speed-dial key's mode: 11 and 10 on a GXP fixed VPK, else 1
// and 0.
func gsKeyMode(k Key, gxpFixed bool) int {
	m := 0
	if k.IsBLF() {
		m = 1
	}
	if gxpFixed {
		m += 10
	}
	return m
}

// PolyBLF lists the BLF keys (Poly's speed dials are in its contact directory,
// polydir.go), numbered from 1.
func (v *view) PolyBLF() []Key {
	var out []Key
	for _, k := range v.Keys {
		if k.IsBLF() {
			k.Position = len(out) + 1
			out = append(out, k)
		}
	}
	return out
}

// SpareKeys lists the key positions after the line keys and the user's keys up to max,
// so a template can clear keys a phone kept from an earlier config (a removed BLF key
// must not stay on the phone).
func (v *view) SpareKeys(max int) []int {
	var out []int
	for i := len(v.Lines) + len(v.Keys) + 1; i <= max; i++ {
		out = append(out, i)
	}
	return out
}
