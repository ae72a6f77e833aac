package provision

// NormalizeMAC accepts a MAC in any common notation (805ec0aabbcc,
// 80:5E:C0:AA:BB:CC, 80-5e-c0-aa-bb-cc, 805e.c0aa.bbcc) and returns it as 12
// lower-case hex digits. The all-zero address is refused: Poly uses it as the
// name of its master file, never as a phone.
func NormalizeMAC(s string) (string, bool) {
	if len(s) < 12 || len(s) > 17 {
		return "", false
	}
	var out [12]byte
	n := 0
	var sep byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
		case c == ':' || c == '-' || c == '.':
			if sep != 0 && c != sep {
				return "", false
			}
			sep = c
			continue
		default:
			return "", false
		}
		if n == 12 {
			return "", false
		}
		out[n] = c
		n++
	}
	if n != 12 || string(out[:]) == "000000000000" {
		return "", false
	}
	if sep != 0 && !separatorsWellPlaced(s, sep) {
		return "", false
	}
	return string(out[:]), true
}

// separatorsWellPlaced accepts separators every 2 hex digits (: -) or every 4 (.).
func separatorsWellPlaced(s string, sep byte) bool {
	group := 2
	if sep == '.' {
		group = 4
	}
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			if run != group {
				return false
			}
			run = 0
			continue
		}
		run++
	}
	return run == group
}

// isHex12 reports whether s is exactly 12 hex digits of the given case
// (lower: a-f only; upper: A-F only; digits always allowed).
func isHex12(s string, upper bool) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < 12; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case !upper && c >= 'a' && c <= 'f':
		case upper && c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// MACUpper is the upper-case form Snom uses in its file names.
func MACUpper(mac string) string {
	b := []byte(mac)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
