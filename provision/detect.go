package provision

import "strings"

// Kind says what a requested file is for.
type Kind string

// File kinds.
const (
	KindBoot      Kind = "boot"      // Yealink boot file: names the files to load
	KindMaster    Kind = "master"    // Poly master file (000000000000.cfg, {mac}.cfg)
	KindCommon    Kind = "common"    // tenant-wide, no MAC: never carries secrets
	KindPhone     Kind = "phone"     // one phone's config with its lines
	KindOverride  Kind = "override"  // Poly {mac}-phone.cfg: the phone's own overrides, served empty
	KindDirectory Kind = "directory" // Poly {mac}-directory.xml
)

// FileRequest is what a requested file name says about the phone asking.
type FileRequest struct {
	Name  string // the file name as asked
	Kind  Kind
	Makes []Make // the makes that ask for this name; one when the name says the make
	Model string // model the name carries (common files), else ""
	MAC   string // 12 lower-case hex when the name carries a MAC, else ""
}

// Has reports whether mk is among the candidate makes.
func (r FileRequest) Has(mk Make) bool {
	for _, m := range r.Makes {
		if m == mk {
			return true
		}
	}
	return false
}

// KindFor is the file's kind once the make is known: Poly's {mac}.cfg is its
// per-phone master file, Yealink's and Fanvil's the phone's config.
func (r FileRequest) KindFor(mk Make) Kind {
	if mk == Poly && r.Kind == KindPhone && r.MAC != "" && r.Name == r.MAC+".cfg" {
		return KindMaster
	}
	return r.Kind
}

var (
	macCfgMakes = []Make{Yealink, Poly, Fanvil}
	macXMLMakes = []Make{Cisco, Snom}
)

// ParseFileName tells which makes ask for name and what it is. Anything that is
// not one of the served names (each make's patterns, docs/vendors.md) is refused:
// path separators, "..", NULs and unknown names all give ok == false.
func (c *Catalogue) ParseFileName(name string) (FileRequest, bool) {
	if !safeFileName(name) {
		return FileRequest{}, false
	}
	r := FileRequest{Name: name}
	if m, ok := c.CommonFileOf(name); ok {
		r.Kind, r.Makes, r.Model = KindCommon, []Make{m.Make}, m.Name
		return r, true
	}
	switch {
	case name == "y000000000000.boot":
		r.Kind, r.Makes = KindBoot, []Make{Yealink}
		return r, true
	case name == "000000000000.cfg":
		r.Kind, r.Makes = KindMaster, []Make{Poly}
		return r, true
	case name == "common.cfg":
		r.Kind, r.Makes = KindCommon, []Make{Poly}
		return r, true
	case name == "cfg.xml":
		r.Kind, r.Makes = KindCommon, []Make{Grandstream}
		return r, true
	}
	base, ext := splitExt(name)
	switch ext {
	case ".boot":
		if isHex12(base, false) {
			return withMAC(r, KindBoot, base, Yealink)
		}
	case ".cfg":
		switch {
		case len(base) == 13 && base[0] == 'y' && allDigits(base[1:]) && strings.HasPrefix(base, "y000000000"):
			r.Kind, r.Makes = KindCommon, []Make{Yealink}
			return r, true
		case isHex12(base, false):
			r2, ok := withMAC(r, KindPhone, base)
			r2.Makes = macCfgMakes
			return r2, ok
		case strings.HasSuffix(base, "-user") && isHex12(strings.TrimSuffix(base, "-user"), false):
			return withMAC(r, KindPhone, strings.TrimSuffix(base, "-user"), Poly)
		case strings.HasSuffix(base, "-phone") && isHex12(strings.TrimSuffix(base, "-phone"), false):
			return withMAC(r, KindOverride, strings.TrimSuffix(base, "-phone"), Poly)
		case len(base) == 12 && strings.HasPrefix(base, "F0V") && isUpperAlnum(base):
			r.Kind, r.Makes = KindCommon, []Make{Fanvil}
			return r, true
		}
	case ".xml":
		switch {
		case isHex12(base, false) && isHex12(base, true): // digits only: Cisco or Snom
			r2, ok := withMAC(r, KindPhone, base)
			r2.Makes = macXMLMakes
			return r2, ok
		case isHex12(base, false):
			return withMAC(r, KindPhone, base, Cisco)
		case isHex12(base, true):
			return withMAC(r, KindPhone, base, Snom)
		case strings.HasPrefix(base, "cfg") && isHex12(base[3:], false):
			return withMAC(r, KindPhone, base[3:], Grandstream)
		case strings.HasSuffix(base, "-directory") && isHex12(strings.TrimSuffix(base, "-directory"), false):
			return withMAC(r, KindDirectory, strings.TrimSuffix(base, "-directory"), Poly)
		case strings.HasPrefix(base, "cp-") && strings.HasSuffix(base, "-3pcc"):
			model := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(base, "cp-"), "-3pcc"))
			if len(model) >= 4 && len(model) <= 8 && allDigits(model[:4]) && isUpperAlnum(model) {
				r.Kind, r.Makes, r.Model = KindCommon, []Make{Cisco}, model
				return r, true
			}
		}
	case ".htm":
		if !strings.HasPrefix(base, "snom") {
			break
		}
		rest := base[4:]
		if i := strings.IndexByte(rest, '-'); i > 0 {
			model, mac := rest[:i], rest[i+1:]
			if isModelName(model) && (isHex12(mac, true) || isHex12(mac, false)) {
				r.Model = strings.ToUpper(model)
				return withMAC(r, KindPhone, mac, Snom)
			}
			break
		}
		if isModelName(rest) {
			r.Kind, r.Makes, r.Model = KindCommon, []Make{Snom}, strings.ToUpper(rest)
			return r, true
		}
	case "":
		if strings.HasPrefix(name, "cfg") && isHex12(name[3:], false) {
			return withMAC(r, KindPhone, name[3:], Grandstream)
		}
	}
	return FileRequest{}, false
}

func withMAC(r FileRequest, k Kind, raw string, makes ...Make) (FileRequest, bool) {
	mac, ok := NormalizeMAC(raw)
	if !ok {
		return FileRequest{}, false
	}
	r.Kind, r.MAC = k, mac
	if len(makes) > 0 {
		r.Makes = makes
	}
	return r, true
}

func splitExt(name string) (string, string) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// isModelName: 2..16 letters and digits.
func isModelName(s string) bool {
	if len(s) < 2 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
