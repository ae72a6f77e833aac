package sip

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// fastSeeds are first REGISTERs as SIPp, desk phones and baresip send them, and some
// that must leave the fast path.
var fastSeeds = []string{
	"REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1-1-0\r\nFrom: <sip:USER@acme.example>;tag=1\r\nTo: <sip:USER@acme.example>\r\nCall-ID: 1-1@127.0.0.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:USER@127.0.0.1:5062>\r\nMax-Forwards: 70\r\nExpires: 3600\r\nUser-Agent: sipp\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK1234;rport\r\nFrom: \"Ann Archer\" <sip:USER@acme.example>;tag=abc\r\nTo: \"Ann Archer\" <sip:USER@acme.example>\r\nCall-ID: 0_123@10.0.0.9\r\nCSeq: 1 REGISTER\r\nContact: <sip:USER@10.0.0.9:5060>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-805ec0aabbcc>\";reg-id=1\r\nX-Grandstream-PBX: true\r\nMax-Forwards: 70\r\nUser-Agent: Yealink SIP-T46U 108.86.0.20\r\nExpires: 3600\r\nAllow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:acme.example SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1:25999;branch=z9hG4bK2eda;rport\r\nm: <sip:USER-0x563c@127.0.0.1:25999>;expires=600\r\nMax-Forwards: 70\r\nt: <sip:USER@acme.example>\r\nf: <sip:USER@acme.example>;tag=42b1\r\ni: b9679a3209bf640e\r\nCSeq: 53023 REGISTER\r\nUser-Agent: baresip v1.0.0 (x86_64/linux)\r\nl: 0\r\n\r\n",
	"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-3\r\nVia: SIP/2.0/TCP 10.0.0.2:5080;branch=z9hG4bK-4\r\nFrom: <sip:USER@127.0.0.1>;tag=1\r\nTo: <sip:USER@127.0.0.1>\r\nCall-ID: x@y\r\nCSeq: 7 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
	// Off the fast path: credentials, Require, a body, folded, a token display name.
	"REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-5\r\nFrom: <sip:USER@acme.example>;tag=1\r\nTo: <sip:USER@acme.example>\r\nCall-ID: 5@h\r\nCSeq: 2 REGISTER\r\nAuthorization: Digest username=\"USER\", realm=\"acme.example\", nonce=\"x\", uri=\"sip:acme.example\", response=\"0\", qop=auth, nc=00000001, cnonce=\"c\"\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-6\r\nFrom: <sip:USER@acme.example>;tag=1\r\nTo: <sip:USER@acme.example>\r\nCall-ID: 6@h\r\nCSeq: 1 REGISTER\r\nRequire: gruu\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-7\r\nFrom: Ann <sip:USER@acme.example>;tag=1\r\nTo: <sip:USER@acme.example>\r\nCall-ID: 7@h\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-8\r\nFrom: <sip:USER@acme.example>\r\n ;tag=1\r\nTo: <sip:USER@acme.example>\r\nCall-ID: 8@h\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
	"REGISTER sip:other.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-9\r\nFrom: <sip:USER@nowhere.example>;tag=1\r\nTo: <sip:USER@nowhere.example>\r\nCall-ID: 9@h\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
}

// fastAndGeneral answers data through the fast path and, when it answered, through the
// general path too, and reports both answers.
func fastAndGeneral(s *Server, data []byte) (fast, general []byte, ok bool) {
	var out []byte
	in := &inbound{src: netip.MustParseAddrPort("127.0.0.1:5062"), transport: "UDP",
		write: func(b []byte, _ netip.AddrPort) error { out = append([]byte(nil), b...); return nil }}
	if len(data) > maxMessage || !cleanHeaders(data) || !s.fastChallenge(data, in, &replyWriter{}) {
		return nil, nil, false
	}
	fast, out = out, nil
	s.handleParsed(data, in, &replyWriter{})
	return fast, out, true
}

// TestFastChallenge: the fast path answers what the general path answers, byte for
// byte (the nonce too: it is remembered per transaction), and only plain first
// REGISTERs take it.
func TestFastChallenge(t *testing.T) {
	e := newEnv(t)
	for i, seed := range fastSeeds {
		data := []byte(strings.ReplaceAll(strings.ReplaceAll(seed, "USER", e.user), "acme.example", e.domain))
		fast, general, ok := fastAndGeneral(e.srv, data)
		if want := i < 4; ok != want {
			t.Errorf("seed %d: fast path taken %v, want %v", i, ok, want)
			continue
		}
		if !ok {
			continue
		}
		if !bytes.Equal(fast, general) {
			t.Errorf("seed %d: fast answer\n%s\ngeneral answer\n%s", i, fast, general)
		}
		if !bytes.HasPrefix(fast, []byte("SIP/2.0 401 ")) {
			t.Errorf("seed %d: %s", i, fast)
		}
		if _, err := sip.ParseMessage(fast); err != nil {
			t.Errorf("seed %d: unparsable answer: %v", i, err)
		}
	}
}

func FuzzFastChallenge(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.ReplaceAll(data, []byte("USER"), []byte(e.user))
		fast, general, ok := fastAndGeneral(e.srv, data)
		if !ok {
			return
		}
		if !bytes.Equal(fast, general) {
			t.Fatalf("fast answer\n%q\ngeneral answer\n%q", fast, general)
		}
		if _, err := sip.ParseMessage(fast); err != nil {
			t.Fatalf("unparsable answer %q: %v", fast, err)
		}
	})
}
