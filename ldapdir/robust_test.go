package ldapdir

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// closedSoon reports whether the server closes the connection (after an optional notice).
func closedSoon(t *testing.T, r *rawConn) bool {
	t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := io.Copy(io.Discard, r.nc)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout()) // EOF or reset: closed
}

func searchRequest(base string, filter *ber.Packet, attrs ...string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "search")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, "base"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, "scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "deref"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "size"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "time"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "types"))
	op.AppendChild(filter)
	list := ber.NewSequence("attrs")
	for _, a := range attrs {
		list.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "a"))
	}
	op.AppendChild(list)
	return op
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	good := f.phonebook(t) // another client carries on throughout
	stillWorks := func(what string) {
		t.Helper()
		res, err := good.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=anna*)", "cn"))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("after %s: %v", what, err)
		}
	}

	t.Run("random bytes", func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 20; i++ {
			r := dialRaw(t, f.addr)
			junk := make([]byte, 1+rng.Intn(300))
			rng.Read(junk)
			r.nc.Write(junk)
			r.nc.(interface{ CloseWrite() error }).CloseWrite()
			if !closedSoon(t, r) {
				t.Fatalf("garbage %x: connection not closed", junk[:min(8, len(junk))])
			}
		}
		stillWorks("random bytes")
	})

	t.Run("2 GiB length", func(t *testing.T) {
		r := dialRaw(t, f.addr)
		r.nc.Write([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01})
		if !closedSoon(t, r) {
			t.Fatal("oversize message: connection not closed")
		}
		stillWorks("2 GiB length")
	})

	t.Run("indefinite length", func(t *testing.T) {
		r := dialRaw(t, f.addr)
		r.nc.Write([]byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00})
		if !closedSoon(t, r) {
			t.Fatal("indefinite length: connection not closed")
		}
	})

	t.Run("deep nesting", func(t *testing.T) {
		r := dialRaw(t, f.addr)
		r.send(envelope(1, bindRequest(3, f.pbDN, f.pbPass)))
		r.read()
		inner := ber.NewString(ber.ClassContext, ber.TypePrimitive, ldap.FilterPresent, "cn", "present")
		for i := 0; i < 500; i++ {
			not := ber.Encode(ber.ClassContext, ber.TypeConstructed, ldap.FilterNot, nil, "not")
			not.AppendChild(inner)
			inner = not
		}
		r.send(envelope(2, searchRequest("o=acme,dc=dialtone", inner)))
		if got := resultOf(r.read()); got != ldap.LDAPResultAdminLimitExceeded {
			t.Errorf("deep filter: result %d", got)
		}
		stillWorks("deep nesting")
	})

	t.Run("many-part substring", func(t *testing.T) {
		r := dialRaw(t, f.addr)
		r.send(envelope(1, bindRequest(3, f.pbDN, f.pbPass)))
		r.read()
		sub := func(parts int) *ber.Packet {
			s := ber.Encode(ber.ClassContext, ber.TypeConstructed, ldap.FilterSubstrings, nil, "sub")
			s.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "cn", "type"))
			seq := ber.NewSequence("parts")
			for i := 0; i < parts; i++ {
				seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, ldap.FilterSubstringsAny, "a", "any"))
			}
			s.AppendChild(seq)
			return s
		}
		r.send(envelope(2, searchRequest("o=acme,dc=dialtone", sub(1000))))
		if got := resultOf(r.read()); got != ldap.LDAPResultAdminLimitExceeded {
			t.Errorf("1000-part substring: result %d", got)
		}
		// A million parts is far beyond the message limit: the connection goes.
		big := bytes.Repeat([]byte{0x81, 0x01, 'a'}, 1_000_000)
		msg := []byte{0x30, 0x84, 0, 0, 0, 0}
		n := len(big)
		msg[2], msg[3], msg[4], msg[5] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		r.nc.Write(msg)
		r.nc.Write(big[:4096])
		if !closedSoon(t, r) {
			t.Fatal("million-part substring: connection not closed")
		}
		stillWorks("million-part substring")
	})

	t.Run("abandon and unbind", func(t *testing.T) {
		r := dialRaw(t, f.addr)
		r.send(envelope(1, bindRequest(3, f.pbDN, f.pbPass)))
		r.read()
		r.send(envelope(2, ber.NewInteger(ber.ClassApplication, ber.TypePrimitive, ldap.ApplicationAbandonRequest, int64(1), "abandon")))
		present := ber.NewString(ber.ClassContext, ber.TypePrimitive, ldap.FilterPresent, "objectClass", "present")
		r.send(envelope(3, searchRequest("ou=people,o=acme,dc=dialtone", present, "1.1")))
		var ids []int64
		for {
			p := r.read()
			ids = append(ids, p.Children[0].Value.(int64))
			if p.Children[1].Tag == ldap.ApplicationSearchResultDone {
				break
			}
		}
		for _, id := range ids {
			if id != 3 {
				t.Errorf("answer to message %d after abandon", id)
			}
		}
		r.send(envelope(4, ber.Encode(ber.ClassApplication, ber.TypePrimitive, ldap.ApplicationUnbindRequest, nil, "unbind")))
		if !closedSoon(t, r) {
			t.Error("unbind: connection not closed")
		}
	})

	if strings.Contains(f.logs.String(), "panic") {
		t.Error("a panic was logged")
	}
}
