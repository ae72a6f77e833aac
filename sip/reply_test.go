package sip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestCopyHeaders: a response built from the raw request's lines says what one
// serialised from the parsed request says, for the forms clients send.
func TestCopyHeaders(t *testing.T) {
	t.Parallel()
	src := netip.MustParseAddrPort("192.0.2.7:5062")
	cases := map[string]string{
		"plain": "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1\r\n" +
			"From: <sip:201@acme.example>;tag=a1\r\nTo: <sip:201@acme.example>\r\n" +
			"Call-ID: c1@host\r\nCSeq: 1 REGISTER\r\n",
		"rport and received": "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK-2\r\n" +
			"From: \"Ann\" <sip:201@acme.example>;tag=a2\r\nTo: \"Ann\" <sip:201@acme.example>  \r\n" +
			"Call-ID: c2@host\r\nCSeq: 7 REGISTER\r\n",
		"rport last": "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-3;RPort\r\n" +
			"From: <sip:201@acme.example>;tag=a3\r\nTo: <sip:201@acme.example>\r\n" +
			"Call-ID: c3\r\nCSeq: 2 REGISTER\r\n",
		"compact forms": "v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-4;rport\r\n" +
			"f: <sip:201@acme.example>;tag=a4\r\nt: sip:201@acme.example\r\n" +
			"i: c4\r\nCSeq: 3 REGISTER\r\n",
		"two vias on one line and another": "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-5;rport, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-x\r\n" +
			"Via: SIP/2.0/TCP 10.0.0.3;branch=z9hG4bK-y\r\n" +
			"From: <sip:201@acme.example>;tag=a5\r\nTo: <sip:201@acme.example>;tag=theirs\r\n" +
			"Call-ID: c5\r\nCSeq: 4 REGISTER\r\n",
		"rport with a value": "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-7;rport=9\r\n" +
			"From: <sip:201@acme.example>;tag=a7\r\nTo: <sip:201@acme.example>\r\n" +
			"Call-ID: c7\r\nCSeq: 6 REGISTER\r\n",
		"folded": "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-8\r\n" +
			"From: <sip:201@acme.example>  \r\n \t;tag=a8\r\nTo: <sip:201@acme.example>\r\n" +
			"Call-ID: c8\r\nCSeq: 7 REGISTER\r\n",
		"folded top Via": "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-9;rport,\r\n  SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-z\r\n" +
			"From: <sip:201@acme.example>;tag=a9\r\nTo: <sip:201@acme.example>\r\n" +
			"Call-ID: c9\r\nCSeq: 8 REGISTER\r\n",
	}
	parser := sip.NewParser()
	for name, hdrs := range cases {
		t.Run(name, func(t *testing.T) {
			raw := []byte("REGISTER sip:acme.example SIP/2.0\r\n" + hdrs +
				"Contact: <sip:201@10.0.0.1:5060>\r\nUser-Agent: x\r\nContent-Length: 0\r\n\r\n")
			answer := func(useRaw bool) *sip.Response {
				m, err := parser.ParseSIP(raw)
				if err != nil {
					t.Fatal(err)
				}
				w := &replyWriter{req: m.(*sip.Request), src: src, tag: "ourtag"}
				if useRaw {
					w.raw = raw
					if !w.scan() {
						t.Fatalf("scan refused the request")
					}
				}
				res, err := parser.ParseSIP(w.simple(401, "Unauthorized"))
				if err != nil {
					t.Fatalf("unparsable answer: %v\n%s", err, w.b)
				}
				return res.(*sip.Response)
			}
			want, got := answer(false), answer(true)
			for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
				var a, b []string
				for _, x := range want.GetHeaders(h) {
					a = append(a, x.Value())
				}
				for _, x := range got.GetHeaders(h) {
					b = append(b, x.Value())
				}
				if strings.Join(a, "|") != strings.Join(b, "|") {
					t.Errorf("%s: copied %q, serialised %q", h, b, a)
				}
			}
			if r, _ := got.Via().Params.Get("received"); r != "192.0.2.7" && got.Via().Host != "192.0.2.7" {
				t.Errorf("no received: %s", got.Via().Value())
			}
			if tag, _ := got.To().Params.Get("tag"); tag == "" {
				t.Errorf("no To tag")
			}
		})
	}
}

// TestScanRefuses: requests whose answer could not echo them faithfully are dropped.
func TestScanRefuses(t *testing.T) {
	t.Parallel()
	parser := sip.NewParser()
	for name, hdrs := range map[string]string{
		"lenient Via":        "Via: SIP/2.0/0 000!00000000\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n",
		"Via without a host": "Via: SIP/2.0/UDP ;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n",
		"empty param":        "Via: SIP/2.0/UDP 10.0.0.1;;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n",
		"To ending in ;":     "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nTo: <sip:a@b>;\r\n",
	} {
		raw := []byte("REGISTER sip:b SIP/2.0\r\n" + hdrs + "Call-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
		m, err := parser.ParseSIP(raw)
		if err != nil {
			// Each case is one sipgo reads leniently; one it refuses tests nothing here.
			t.Errorf("%s: sipgo refuses it (%v): the case checks nothing", name, err)
			continue
		}
		w := &replyWriter{req: m.(*sip.Request), raw: raw, src: netip.MustParseAddrPort("192.0.2.7:5062")}
		if w.scan() {
			t.Errorf("%s: scanned as answerable", name)
		}
	}
}
