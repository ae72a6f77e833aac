package sip

import "testing"

// contentLength finds the body length of a SIP message over TCP (RFC 3261 §18.3):
// the full name or its compact form "l", any case.
func TestContentLengthLine(t *testing.T) {
	for line, want := range map[string]int{"Content-Length: 12": 12, "l: 0": 0, "CONTENT-LENGTH:5": 5, " content-length : 7 ": 7,
		"Content-Type: application/sdp": -1, "Content-Length: -1": -1, "Content-Length: x": -1, "Max-Forwards: 70": -1, "no colon": -1} {
		n, ok := contentLength([]byte(line))
		if got := map[bool]int{true: n, false: -1}[ok]; got != want {
			t.Errorf("%q: %d, want %d", line, got, want)
		}
	}
	if a := testing.AllocsPerRun(100, func() { contentLength([]byte("Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1")) }); a != 0 {
		t.Errorf("%v allocations for a header line that is not Content-Length", a)
	}
}

// The MAC a phone names in its REGISTER, in each make's way (docs/vendors.md), and nothing
// mistaken for one.
func TestMACInInstanceOrUserAgent(t *testing.T) {
	for _, c := range []struct{ instance, ua, want string }{
		{"", "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc", "805ec0aabbcc"},
		{"", "Yealink SIP-T46U 108.86.0.20 80-5E-C0-AA-BB-CC", "805ec0aabbcc"},
		{"", "Cisco-CP8841-3PCC/11.3.7 (00562b043615)", "00562b043615"},
		{"", "Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203", "c074ad010203"},
		{"<urn:uuid:00000000-0000-1000-8000-805ec0aabbcc>", "", "805ec0aabbcc"},
		{"", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018", ""},
		{"", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)", ""},
		{"", "Phone 00:00:00:00:00:00", ""},
		{"", "Odd 80:5e:c0:aa:bb:cc:dd", ""},   // seven pairs: not a MAC
		{"", "Odd 80:5e-c0:aa:bb:cc", ""},      // mixed separators
		{"", "Odd 80:5e:c0:aa:bb:ccd", ""},     // a pair too long
		{"", "Build 10.20.30.40.50.60.70", ""}, // dotted numbers
	} {
		if got := macIn(c.instance, c.ua); got != c.want {
			t.Errorf("%q %q: %q, want %q", c.instance, c.ua, got, c.want)
		}
	}
}
