package ldapdir

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{"(|(cn=Jan*)(sn=Jan*))", "(|(telephoneNumber=1234)(mobile=1234))",
		"(&(objectClass=person)(!(cn=*a*b*c)))", "(cn>=m)", "(cn~=x)", "(cn:dn:2.5.13.5:=x)", "(moblie=*)"} {
		p, err := ldap.CompileFilter(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Bytes())
	}
	f.Add([]byte{0xa0, 0x00})
	f.Add([]byte{0xa4, 0x06, 0x04, 0x02, 'c', 'n', 0x30, 0x00})
}

// FuzzFilter compiles arbitrary filter bytes and evaluates the result: errors are fine,
// panics and unbounded work are not.
func FuzzFilter(f *testing.F) {
	fuzzSeeds(f)
	d := benchDirectory(300)
	s := d.snapshot("bench")
	f.Fuzz(func(t *testing.T, data []byte) {
		tv, _, err := next(data)
		if err != nil {
			return
		}
		n, err := compileFilter(tv)
		if err != nil {
			return
		}
		b := make(bitset, words(len(s.persons)))
		if n.indexable(s) {
			n.collect(s, b)
		}
		for _, e := range s.persons {
			n.eval(e)
		}
		n.eval(s.top)
	})
}

// FuzzRequest feeds arbitrary bytes to the message reader and request handler of a
// connection bound as a tenant's phonebook.
func FuzzRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00})
	d := benchDirectory(50)
	srv := New(d, Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(srv, a, false)
		c.w = bufio.NewWriter(io.Discard)
		c.who = identity{kind: phonebook, tenant: "bench"}
		r := bufio.NewReader(bytes.NewReader(data))
		for i := 0; i < 8; i++ {
			msg, buf, err := readMessage(r, c.buf, srv.opts.MaxMessage)
			c.buf = buf
			if err != nil {
				return
			}
			if more, err := c.handle(context.Background(), msg); err != nil || !more {
				return
			}
		}
	})
}
