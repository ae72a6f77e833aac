package sip

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"testing"

	"github.com/dialtone/dialtone/internal/digest"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// BenchmarkRegister runs what SIPp's register-auth.xml sends (REGISTER, 401, REGISTER
// with credentials, 200) through the message handler, without sockets: one op is one
// registration of one of 1000 extensions. Only the registrar's work is timed.
func BenchmarkRegister(b *testing.B) {
	st, err := store.Open(store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 1000
	err = st.Update(func(tx *store.Tx) error {
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "default", SIPDomain: "bench.example", ExtMin: 1000, ExtMax: 9999}); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if _, _, err := tx.CreateUser("default", store.NewUser{FirstName: "U", LastName: strconv.Itoa(i),
				Email: fmt.Sprintf("u%d@bench.example", i), Role: store.RoleUser, Extensions: []string{strconv.Itoa(1000 + i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	type account struct{ user, ha1 string }
	accounts := make([]account, n)
	for i := range accounts {
		e, err := st.Extension("default", strconv.Itoa(1000+i))
		if err != nil {
			b.Fatal(err)
		}
		pw, _ := st.SIPPassword(e)
		h := md5.Sum([]byte(e.SIPUsername + ":bench.example:" + pw))
		accounts[i] = account{e.SIPUsername, hex.EncodeToString(h[:])}
	}
	srv, err := New(Config{Store: st, PublicHost: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var last []byte
	in := &inbound{src: netip.MustParseAddrPort("127.0.0.1:5062"), transport: "UDP",
		write: func(p []byte, _ netip.AddrPort) error { last = append(last[:0], p...); return nil }}
	w := &replyWriter{b: make([]byte, 0, 2048)}
	msg := func(i int, a account, cseq int, auth string) []byte {
		return []byte(fmt.Sprintf("REGISTER sip:bench.example SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-%d-%d\r\n"+
			"From: <sip:%s@bench.example>;tag=%d\r\nTo: <sip:%s@bench.example>\r\n"+
			"Call-ID: %d-bench@127.0.0.1\r\nCSeq: %d REGISTER\r\n"+
			"Contact: <sip:%s@127.0.0.1:5062>\r\n%sMax-Forwards: 70\r\nExpires: 3600\r\n"+
			"User-Agent: sipp\r\nContent-Length: 0\r\n\r\n", i, cseq, a.user, i, a.user, i, cseq, a.user, auth))
	}
	challenge := func(i int) string {
		srv.handleMessage(msg(i, accounts[i%n], 1, ""), in, w)
		k := bytes.Index(last, []byte(`nonce="`))
		if !bytes.HasPrefix(last, []byte("SIP/2.0 401")) || k < 0 {
			b.Fatalf("no challenge: %s", last)
		}
		return string(last[k+7 : k+7+digest.NonceLen])
	}
	answer := func(i int, nonce string) []byte {
		a := accounts[i%n]
		ha2 := md5.Sum([]byte("REGISTER:sip:bench.example"))
		resp := md5.Sum([]byte(a.ha1 + ":" + nonce + ":00000001:abcdef:auth:" + hex.EncodeToString(ha2[:])))
		auth := fmt.Sprintf("Authorization: Digest username=\"%s\",realm=\"bench.example\",nonce=\"%s\","+
			"uri=\"sip:bench.example\",response=\"%s\",algorithm=MD5,cnonce=\"abcdef\",qop=auth,nc=00000001\r\n",
			a.user, nonce, hex.EncodeToString(resp[:]))
		return msg(i, a, 2, auth)
	}
	// Warm the credential cache and the bindings: the steady state of a registrar.
	for i := 0; i < n; i++ {
		srv.handleMessage(answer(i, challenge(i)), in, w)
	}
	const batch = 4096
	b.Run("challenge", func(b *testing.B) {
		msgs := make([][]byte, batch)
		for i := range msgs {
			msgs[i] = msg(1_000_000+i, accounts[i%n], 1, "")
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// A retransmission of an earlier batch gets its remembered nonce: as cheap.
			srv.handleMessage(msgs[i%batch], in, w)
		}
	})
	b.Run("authorized", func(b *testing.B) {
		b.ReportAllocs()
		for done := 0; done < b.N; {
			b.StopTimer()
			k := min(batch, b.N-done)
			msgs := make([][]byte, k)
			for j := range msgs {
				i := 2_000_000 + done + j
				msgs[j] = answer(i, challenge(i))
			}
			b.StartTimer()
			for _, m := range msgs {
				srv.handleMessage(m, in, w)
			}
			done += k
		}
		b.StopTimer()
		if !bytes.HasPrefix(last, []byte("SIP/2.0 200")) {
			b.Fatalf("not registered: %s", last)
		}
	})
}

// BenchmarkSeals: the HMAC seals one call makes: our Via branch on the two INVITEs, the
// ACK for the 2xx and the BYE, and the route token sealed on the INVITE and opened by
// the ACK and the BYE (each branch checked too, as a stray 2xx's is).
func BenchmarkSeals(b *testing.B) {
	p := &proxy{}
	caller := callEnd{transport: "UDP", addr: netip.MustParseAddrPort("192.0.2.10:5060")}
	callee := callEnd{transport: "TCP", addr: netip.MustParseAddrPort("192.0.2.20:5062")}
	via := &sip.ViaHeader{Transport: "UDP", Host: "192.0.2.10", Port: 5060, Params: sip.NewParams()}
	const callID = "a84b4c76e66710@pc33.example.com"
	b.ReportAllocs()
	for b.Loop() {
		for range 4 {
			br := p.sealBranch("1x2y3z", callID, via)
			if !p.branchSealed(br, callID, "UDP", caller.addr) {
				b.Fatal("branch does not open")
			}
		}
		tok := p.sealRoute(caller, callee, "1928301774")
		for range 2 {
			if _, _, ok := p.openRoute(tok, "1928301774"); !ok {
				b.Fatal("route does not open")
			}
		}
	}
}
