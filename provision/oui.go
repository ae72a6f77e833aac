package provision

// ouiMakes maps the first three octets of a MAC (6 lower-case hex digits) to
// the make that ships with it. Sources: IEEE OUI registry entries of each
// vendor (docs/vendors.md lists the ones seen on desk phones).
var ouiMakes = map[string]Make{
	"001565": Yealink, "805ec0": Yealink, "249ad8": Yealink, "44dbd2": Yealink, "805e0c": Yealink,
	"0004f2": Poly, "64167f": Poly, "482567": Poly,
	"000413": Snom,
	"00562b": Cisco, "f87b20": Cisco, "7c310e": Cisco, "00eabd": Cisco, "2c3124": Cisco,
	"000b82": Grandstream, "c074ad": Grandstream, "ec74d7": Grandstream,
	"0c383e": Fanvil, "7c2f80": Fanvil,
}

// MakeFromOUI returns the make whose OUI starts mac (12 lower-case hex), or "".
func MakeFromOUI(mac string) Make {
	if len(mac) != 12 {
		return ""
	}
	return ouiMakes[mac[:6]]
}
