package provision

import "strings"

// UserAgent is what a phone's User-Agent header says about it.
type UserAgent struct {
	Make     Make
	Model    string // canonical: T46U, VVX450, D785, 8841, GRP2614, X4U
	Firmware string
	MAC      string // 12 lower-case hex when the UA carries it
}

// ParseUserAgent recognises each make's User-Agent (docs/vendors.md):
//
//	Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc
//	FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018
//	Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)
//	Cisco-CP8841-3PCC/11.3.7 (00562b043615)
//	Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203
//	Fanvil X4U 2.12.10 0c383e07e16c
//
// Anything else gives a zero UserAgent. It never fails: the header is hostile
// input and an unknown one simply identifies nothing.
func ParseUserAgent(ua string) UserAgent {
	if len(ua) > 512 {
		ua = ua[:512]
	}
	switch {
	case strings.HasPrefix(ua, "Yealink"):
		return parseYealinkUA(ua)
	case strings.Contains(ua, "Polycom") || strings.Contains(ua, "Poly/") || strings.Contains(ua, "Poly-"):
		return parsePolyUA(ua)
	case strings.Contains(ua, "snom"):
		return parseSnomUA(ua)
	case strings.HasPrefix(ua, "Cisco-"):
		return parseCiscoUA(ua)
	case strings.HasPrefix(ua, "Grandstream"):
		return parseGrandstreamUA(ua)
	case strings.HasPrefix(ua, "Fanvil"):
		return parseFanvilUA(ua)
	}
	return UserAgent{}
}

func parseYealinkUA(ua string) UserAgent {
	f := strings.Fields(ua)
	u := UserAgent{Make: Yealink}
	if len(f) > 1 {
		m := strings.TrimPrefix(strings.TrimPrefix(f[1], "SIP-"), "SIP")
		if isModelToken(m) {
			u.Model = strings.ToUpper(m)
		}
	}
	if len(f) > 2 && isVersion(f[2]) {
		u.Firmware = f[2]
	}
	if len(f) > 3 {
		u.MAC, _ = NormalizeMAC(f[3])
	}
	return u
}

func parsePolyUA(ua string) UserAgent {
	u := UserAgent{Make: Poly}
	// "PolycomVVX-VVX_450-UA/6.4.3.5018", "Poly/Edge_E450-UA/8.0.1"
	i := strings.Index(ua, "-UA/")
	if i < 0 {
		return u
	}
	head, tail := ua[:i], ua[i+4:]
	if j := strings.LastIndexAny(head, "-/"); j >= 0 {
		m := strings.ReplaceAll(head[j+1:], "_", "")
		if isModelToken(m) {
			u.Model = strings.ToUpper(m)
			if strings.HasPrefix(u.Model, "EDGEE") {
				u.Model = "EdgeE" + u.Model[5:]
			}
		}
	}
	if f := strings.Fields(tail); len(f) > 0 && isVersion(f[0]) {
		u.Firmware = f[0]
	}
	return u
}

func parseSnomUA(ua string) UserAgent {
	u := UserAgent{Make: Snom}
	i := strings.Index(ua, "snom")
	rest := ua[i+4:]
	j := strings.Index(rest, "-SIP")
	if j < 0 {
		return u
	}
	if isModelToken(rest[:j]) {
		u.Model = strings.ToUpper(rest[:j])
	}
	f := strings.Fields(strings.TrimRight(rest[j+4:], ")"))
	if len(f) > 0 && isVersion(f[0]) {
		u.Firmware = f[0]
	}
	for _, w := range f[min(1, len(f)):] {
		if mac, ok := NormalizeMAC(strings.Trim(w, "();")); ok {
			u.MAC = mac
		}
	}
	return u
}

func parseCiscoUA(ua string) UserAgent {
	u := UserAgent{Make: Cisco}
	rest := strings.TrimPrefix(ua, "Cisco-")
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return u
	}
	m := strings.TrimPrefix(strings.TrimPrefix(rest[:slash], "CP"), "-")
	m = strings.TrimSuffix(m, "-3PCC")
	if isModelToken(m) {
		u.Model = strings.ToUpper(m)
	}
	f := strings.Fields(rest[slash+1:])
	if len(f) > 0 && isVersion(f[0]) {
		u.Firmware = f[0]
	}
	if len(f) > 1 {
		u.MAC, _ = NormalizeMAC(strings.Trim(f[1], "()"))
	}
	return u
}

func parseGrandstreamUA(ua string) UserAgent {
	u := UserAgent{Make: Grandstream}
	f := strings.Fields(ua)
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "HW":
			if isModelToken(f[i+1]) {
				u.Model = strings.ToUpper(f[i+1])
			}
		case "SW":
			if isVersion(f[i+1]) {
				u.Firmware = f[i+1]
			}
		case "DevId":
			u.MAC, _ = NormalizeMAC(f[i+1])
		}
	}
	return u
}

func parseFanvilUA(ua string) UserAgent {
	u := UserAgent{Make: Fanvil}
	f := strings.Fields(ua)
	if len(f) < 2 {
		return u
	}
	model, k := f[1], 2
	if len(f) > 2 && f[2] == "Pro" { // "Fanvil X6U Pro 0.0.10 0c383e2cd782"
		model, k = model+"-Pro", 3
	}
	if isModelToken(model) {
		u.Model = strings.ToUpper(model)
	}
	if len(f) > k && isVersion(f[k]) {
		u.Firmware = f[k]
	}
	if len(f) > k+1 {
		u.MAC, _ = NormalizeMAC(f[k+1])
	}
	return u
}

// isModelToken: 2..24 of letters, digits and '-'.
func isModelToken(s string) bool {
	if len(s) < 2 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// isVersion: 1..32 of digits, letters, '.', '-' and '_', starting with a digit.
func isVersion(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Identify decides the make of a request. A name only one make asks for decides
// alone; a shared name ({mac}.cfg, {mac}.xml) goes by the phone record first
// (recordMake, "" when the MAC is unknown), then the User-Agent, then the MAC's
// OUI, each only when the name allows that make. "" when nothing decides.
func Identify(req FileRequest, recordMake Make, ua UserAgent) Make {
	if len(req.Makes) == 1 {
		return req.Makes[0]
	}
	for _, mk := range []Make{recordMake, ua.Make, MakeFromOUI(req.MAC)} {
		if mk != "" && req.Has(mk) {
			return mk
		}
	}
	return ""
}
