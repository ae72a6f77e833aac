package ldapdir

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// BenchmarkPhoneMix measures the server side of ldapload's mix (name prefix with size
// limit 50, caller-ID by number) on 10,000 people, without the network.
func BenchmarkPhoneMix(b *testing.B) {
	d := benchDirectory(10000)
	srv := New(d, Options{})
	a, p := net.Pipe()
	defer a.Close()
	defer p.Close()
	c := newConn(srv, a, false)
	c.w = bufio.NewWriter(io.Discard)
	c.who = identity{kind: phonebook, tenant: "bench"}
	names := []string{"Jan", "Smit", "de V", "Anna", "Bak", "Visser", "Em", "Jong", "Lar", "Pieter"}
	var msgs [][]byte
	for i := 0; i < 20; i++ {
		var filter string
		if i%2 == 0 {
			n := names[i/2]
			filter = fmt.Sprintf("(|(cn=%s*)(sn=%s*))", n, n)
		} else {
			filter = fmt.Sprintf("(|(telephoneNumber=%d)(mobile=%d))", 1000+i*397, 1000+i*211)
		}
		req := ldap.NewSearchRequest("o=bench,dc=dialtone", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 50, 5, false,
			filter, []string{"cn", "telephoneNumber", "mobile"}, nil)
		env := ber.NewSequence("msg")
		env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(i+1), "id"))
		sp, err := encodeSearch(req)
		if err != nil {
			b.Fatal(err)
		}
		env.AppendChild(sp)
		full := env.Bytes()
		t, _, _ := next(full)
		msgs = append(msgs, t.body)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.handle(ctx, msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func encodeSearch(r *ldap.SearchRequest) (*ber.Packet, error) {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "search")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, r.BaseDN, "base"))
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(r.Scope), "scope"))
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(r.DerefAliases), "deref"))
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(r.SizeLimit), "size"))
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(r.TimeLimit), "time"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, r.TypesOnly, "types"))
	f, err := ldap.CompileFilter(r.Filter)
	if err != nil {
		return nil, err
	}
	p.AppendChild(f)
	attrs := ber.NewSequence("attrs")
	for _, a := range r.Attributes {
		attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "a"))
	}
	p.AppendChild(attrs)
	return p, nil
}
