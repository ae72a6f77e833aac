package ldapdir

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Entries go out as a cached protocolOp in an envelope written per message: every size of
// message ID (one to four octets, with the sign octet INTEGER needs at 128, 32768…) comes
// back as asked, on the entries and on the done.
func TestEntryEnvelopeMessageIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	r := dialRaw(t, f.addr)
	r.send(envelope(1, bindRequest(3, f.pbDN, f.pbPass)))
	if p := r.read(); resultOf(p) != 0 {
		t.Fatalf("bind: %d", resultOf(p))
	}
	for _, id := range []int64{2, 127, 128, 255, 256, 32767, 32768, 65535, 1 << 23, 1<<31 - 1} {
		req := ldap.NewSearchRequest("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(|(cn=anna*)(sn=anna*))", []string{"cn", "telephoneNumber"}, nil)
		op, err := encodeSearch(req)
		check(t, err)
		r.send(envelope(id, op))
		e := r.read()
		if got := e.Children[0].Value.(int64); got != id || e.Children[1].Tag != ldap.ApplicationSearchResultEntry {
			t.Fatalf("id %d: entry came back as id %d, op %d", id, got, e.Children[1].Tag)
		}
		if dn := e.Children[1].Children[0].Value.(string); dn != "uid="+f.ids["Anna"]+",ou=people,o=acme,dc=dialtone" {
			t.Errorf("id %d: dn %q", id, dn)
		}
		if n := len(e.Children[1].Children[1].Children); n != 2 {
			t.Errorf("id %d: %d attributes, want cn and telephoneNumber", id, n)
		}
		d := r.read()
		if got := d.Children[0].Value.(int64); got != id || d.Children[1].Tag != ldap.ApplicationSearchResultDone || resultOf(d) != 0 {
			t.Fatalf("id %d: done came back as id %d, op %d, result %d", id, got, d.Children[1].Tag, resultOf(d))
		}
	}
}

// A changed person's index keys are stale until the indexes are rebuilt: a filter the
// index answers exactly must still evaluate that slot, so the old name finds nobody.
func TestExactIndexEvaluatesDirtySlots(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	d.Load(Tenant{Slug: "t"}, nil, []Person{
		{ID: "p1", FirstName: "Anna", LastName: "Smit", Extensions: []string{"201"}},
		{ID: "p2", FirstName: "Bram", LastName: "Smit", Extensions: []string{"202"}},
	})
	d.PutPerson("t", Person{ID: "p1", FirstName: "Anna", LastName: "Visser", Extensions: []string{"301"}})
	s := d.snapshot("t")
	if len(s.dirty) != 1 {
		t.Fatalf("%d dirty slots, want 1 (no rebuild yet)", len(s.dirty))
	}
	for filter, want := range map[string][]string{
		"(|(cn=smit*)(sn=smit*))":                 {"p2"},
		"(|(telephoneNumber=201)(mobile=201))":    nil,
		"(|(telephoneNumber=301)(mobile=301))":    {"p1"},
		"(sn=vis*)":                               {"p1"},
		"(|(sn>=smit)(uid=p1))":                   {"p1", "p2"},
		"(|(cn=bram*)(objectClass=groupOfNames))": {"p2"},
		"(|(cn=bram*)(sn=*iss*))":                 {"p1", "p2"},
	} {
		var got []string
		for _, e := range matchAll(t, s, filter) {
			got = append(got, e.vals[aUID][0])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", filter, got, want)
		}
	}
	for filter, exact := range map[string]bool{
		"(|(cn=Jan*)(sn=Jan*))":              true,
		"(|(telephoneNumber=1)(mobile=1))":   true,
		"(|(cn=Jan*)(other=1))":              true,
		"(cn=J*n)":                           false,
		"(cn=J*a*)":                          false,
		"(&(cn=Jan*)(sn=Smit))":              false,
		"(|(cn=Jan*)(objectClass=person))":   false,
		"(|(cn=Jan*)(preferredLanguage=nl))": false,
	} {
		n := compileText(t, filter)
		if got := n.exact(s); got != exact {
			t.Errorf("%s: exact %v, want %v", filter, got, exact)
		}
	}
}

// The read deadline is set again for each request: a connection in use stays open past
// IdleTimeout, an unused one is closed once it has been idle that long.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 400 * time.Millisecond
	f := newFixture(t, Options{IdleTimeout: idle})
	busy, quiet := dialRaw(t, f.addr), dialRaw(t, f.addr)
	busy.nc.SetDeadline(time.Now().Add(10 * time.Second))
	busy.send(envelope(1, bindRequest(3, f.pbDN, f.pbPass)))
	busy.read()
	start := time.Now()
	pace := time.NewTicker(idle / 8) // the client's pace: a request now and then
	defer pace.Stop()
	for id := int64(2); time.Since(start) < 3*idle; id++ {
		<-pace.C
		busy.send(envelope(id, bindRequest(3, f.pbDN, f.pbPass)))
		if p := busy.read(); resultOf(p) != 0 {
			t.Fatalf("bind %d: %d", id, resultOf(p))
		}
	}
	if !closedSoon(t, quiet) {
		t.Fatal("an idle connection was not closed")
	}
	if d := time.Since(start); d < idle*63/64 {
		t.Errorf("idle connection closed after %v, before IdleTimeout %v", d, idle)
	}
}

// An entry with a photo is encoded for each reply rather than kept a second time, and
// goes out whole every time; the same entry without the photo selected is kept.
func TestLargeEntryNotKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	photo := make([]byte, 8<<10)
	for i := range photo {
		photo[i] = byte(i * 7)
	}
	f.dir.Load(Tenant{Slug: "pics", PhonebookPassword: "pics-password"}, nil,
		[]Person{{ID: "p1", FirstName: "Pia", LastName: "Foto", Photo: photo, Extensions: []string{"301"}}})
	c := f.dial(t)
	check(t, c.Bind("cn=phonebook,o=pics,dc=dialtone", "pics-password"))
	en := f.dir.snapshot("pics").persons[0]
	for round := 0; round < 2; round++ {
		res, err := c.Search(search("o=pics,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=pia*)", "cn", "jpegPhoto"))
		check(t, err)
		if len(res.Entries) != 1 || !slices.Equal(res.Entries[0].GetRawAttributeValue("jpegPhoto"), photo) || res.Entries[0].GetAttributeValue("cn") != "Pia Foto" {
			t.Fatalf("round %d: photo entry not sent whole: %d entries", round, len(res.Entries))
		}
		if w := en.wire.Load(); w != nil {
			t.Fatalf("round %d: an encoding of %d bytes was kept", round, len(w.b))
		}
	}
	res, err := c.Search(search("o=pics,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=pia*)", "cn", "telephoneNumber"))
	check(t, err)
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("telephoneNumber") != "301" {
		t.Fatalf("small selection: %+v", res.Entries)
	}
	if w := en.wire.Load(); w == nil || len(w.b) > maxWireEntry {
		t.Error("the small encoding was not kept")
	}
}

// Connections asking for different attributes of the same people at once each get their
// own selection (the kept encoding is replaced, never mixed).
func TestConcurrentSelections(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	sels := [][]string{{"cn"}, {"telephoneNumber"}, {"cn", "mail"}, {"sn", "+"}}
	errs := make(chan error, len(sels))
	for _, attrs := range sels {
		c := f.phonebook(t)
		go func() {
			for i := 0; i < 40; i++ {
				res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(|(cn=anna*)(cn=cees*))", attrs...))
				if err != nil {
					errs <- err
					return
				}
				for _, e := range res.Entries {
					var names []string
					for _, a := range e.Attributes {
						names = append(names, a.Name)
					}
					want := attrs
					if slices.Contains(attrs, "+") {
						want = []string{"sn", "entryDN", "structuralObjectClass", "subschemaSubentry", "hasSubordinates"}
					}
					if !slices.Equal(names, want) {
						errs <- fmt.Errorf("asked %q, got %q", attrs, names)
						return
					}
				}
				if len(res.Entries) != 2 {
					errs <- fmt.Errorf("asked %q: %d entries", attrs, len(res.Entries))
					return
				}
			}
			errs <- nil
		}()
	}
	for range sels {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
