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
