package provision

import "strings"

// Programmable keys: each of the user's extensions on a line key first, then the user's
// BLF and speed-dial keys (store.PhoneKey) in each make's key syntax. The templates
// call these helpers; the key codes come from each make's administrator guide:
//
//   - Yealink: linekey.N.type 15 line, 16 BLF, 13 speed dial, with .value, .label and
//     .line (the account, 1-based) (Yealink T4x/T5x administrator guide, "Line Keys").
//   - Snom: fkey idx (0-based) "line", "blf <sip:201@domain>", "speed 201", with
//     fkey_label (Snom wiki, "fkey" and "Function keys").
//   - Poly: attendant.resourceList.N.address/.label/.type=normal for BLF (UC Software
//     administrator guide, "Busy Lamp Field"); Poly speed dials live in the contact
//     directory's sd index, which Dialtone does not write, so Poly gets BLF keys only.
//   - Cisco SPA/MPP: Extended_Function_N_ "fnc=blf+sd;sub=201@domain;nme=…" on a line
//     key whose Extension_N_ is Disabled, "fnc=sd;ext=201@domain;nme=…" for a speed
//     dial (Cisco SPA500 administration guide, "Line Key Extended Function").
//   - Grandstream: multi-purpose keys P323+k-1 (mode: 0 speed dial, 1 BLF), P301+3k-3
//     (account), P302+3k-3 (name), P303+3k-3 (value) for MPK k = 1..7 (GXP21xx
//     administration guide, "Multi-Purpose Keys"); keys past the seventh are left out.
//   - Fanvil: DSS keys fkey index N with Type 2 (line, value SIPn) or 1 (memory key,
//     value "201@1/ba" BLF, "201@1/f" speed dial) and Title (Fanvil auto-provisioning
//     standard, "DSS Key").

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

// FanvilValue is the fkey Value of the key (on line 1).
func (k Key) FanvilValue() string {
	if k.IsBLF() {
		return k.Value + "@1/ba"
	}
	return k.Value + "@1/f"
}

// GSKey is the Grandstream P-value of field ("mode", "account", "name", "value") of the
// key's multi-purpose key (the n-th programmable key, 1-based), 0 past the seventh.
func (v *view) GSKey(n int, field string) int {
	if n < 1 || n > 7 {
		return 0
	}
	switch field {
	case "mode":
		return 322 + n
	case "account":
		return 301 + 3*(n-1)
	case "name":
		return 302 + 3*(n-1)
	case "value":
		return 303 + 3*(n-1)
	}
	return 0
}

// GSMode is the Grandstream MPK mode of the key: 1 BLF, 0 speed dial.
func (k Key) GSMode() int {
	if k.IsBLF() {
		return 1
	}
	return 0
}

// PolyBLF lists the BLF keys (Poly takes no speed dials from Dialtone), numbered from 1.
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
