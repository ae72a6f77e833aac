package ldapdir

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dialtone/dialtone/store"
	"github.com/go-ldap/ldap/v3"
)

// addPeople creates n more users in acme: "Person NNN". No chosen password: nobody
// binds as them, and each would cost an argon2id hash (a generated one does not).
func addPeople(t *testing.T, f *fixture, n int) {
	t.Helper()
	check(t, f.st.Update(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			_, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Person", LastName: fmt.Sprintf("%03d", i),
				PIN: "482916", Extensions: []string{fmt.Sprint(3000 + i)}})
			if err != nil {
				return err
			}
		}
		return nil
	}))
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{SizeLimit: 5})
	addPeople(t, f, 8)
	c := f.phonebook(t)
	req := search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(objectClass=person)", "cn")
	req.SizeLimit = 3
	res, err := c.Search(req)
	if resultCode(err) != ldap.LDAPResultSizeLimitExceeded || len(res.Entries) != 3 {
		t.Errorf("client limit 3: %d entries, %v", len(res.Entries), err)
	}
	req.SizeLimit = 0 // the server's limit applies
	res, err = c.Search(req)
	if resultCode(err) != ldap.LDAPResultSizeLimitExceeded || len(res.Entries) != 5 {
		t.Errorf("server limit 5: %d entries, %v", len(res.Entries), err)
	}
	req.SizeLimit = 3 // exactly the number that match: no error
	req.Filter = "(|(cn=anna*)(cn=bram*)(cn=cees*))"
	res, err = c.Search(req)
	if err != nil || len(res.Entries) != 3 {
		t.Errorf("limit equal to matches: %d, %v", len(res.Entries), err)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	addPeople(t, f, 11)
	c := f.phonebook(t)
	req := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
	res, err := c.SearchWithPaging(req, 4)
	check(t, err)
	got := cns(res)
	if len(got) != 14 || len(slices.Compact(slices.Clone(got))) != 14 {
		t.Fatalf("paged search returned %d (%q)", len(got), got)
	}
	// Page by page: 4, 4, 4, 2, then an empty cookie.
	paging := ldap.NewControlPaging(4)
	var sizes []int
	for {
		req := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
		req.Controls = []ldap.Control{paging}
		res, err := c.Search(req)
		check(t, err)
		sizes = append(sizes, len(res.Entries))
		ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok {
			t.Fatal("no paging control in the response")
		}
		if len(ctl.Cookie) == 0 {
			break
		}
		paging.SetCookie(ctl.Cookie)
		if len(sizes) > 10 {
			t.Fatal("paging does not end")
		}
	}
	if !slices.Equal(sizes, []int{4, 4, 4, 2}) {
		t.Errorf("page sizes %v", sizes)
	}
	// A cookie belongs to its search.
	first := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
	first.Controls = []ldap.Control{ldap.NewControlPaging(4)}
	res, err = c.Search(first)
	check(t, err)
	other := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(cn=p*)", "cn")
	p := ldap.NewControlPaging(4)
	p.SetCookie(ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie)
	other.Controls = []ldap.Control{p}
	if _, err := c.Search(other); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
		t.Errorf("foreign cookie: %v", err)
	}
	p.SetCookie([]byte{0, 0, 0, 4, 1, 2, 3, 4})
	if _, err := c.Search(other); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
		t.Errorf("made-up cookie: %v", err)
	}
}

// The next page goes on where the last one stopped, not at the offset-th match: a person
// removed from a page already sent neither shifts an unsent person out of sight nor
// makes the server walk the earlier pages again.
func TestPagingResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	addPeople(t, f, 11) // 14 people
	c := f.phonebook(t)
	paging := ldap.NewControlPaging(4)
	seen := map[string]int{}
	for page := 0; ; page++ {
		req := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "uid")
		req.Controls = []ldap.Control{paging}
		res, err := c.Search(req)
		check(t, err)
		for _, e := range res.Entries {
			seen[e.GetAttributeValue("uid")]++
		}
		if page == 0 { // someone on the first page leaves
			uid := res.Entries[1].GetAttributeValue("uid")
			check(t, f.st.Update(func(tx *store.Tx) error { _, err := tx.DeleteUser("acme", uid); return err }))
		}
		cookie := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie
		if len(cookie) == 0 {
			break
		}
		paging.SetCookie(cookie)
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 14 {
		t.Errorf("%d people seen over the pages, want all 14 that were there when paging began", len(seen))
	}
	for uid, n := range seen {
		if n != 1 {
			t.Errorf("%s sent %d times", uid, n)
		}
	}
}

func TestSortAndVLV(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	req := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "sn")
	req.Controls = []ldap.Control{ldap.NewControlServerSideSortingWithSortKeys([]*ldap.SortKey{{AttributeType: "sn", Reverse: true}})}
	res, err := c.Search(req)
	check(t, err)
	var order []string
	for _, e := range res.Entries {
		order = append(order, e.GetAttributeValue("sn"))
	}
	if !slices.Equal(order, []string{"Jansen", "de Vries", "Bakker"}) {
		t.Errorf("reverse sn order %q", order)
	}
	if ldap.FindControl(res.Controls, ldap.ControlTypeServerSideSortingResult) == nil {
		t.Error("no sort result control")
	}
	// Paging and sorting together keep the order across pages.
	order = nil
	req.Controls = append(req.Controls, ldap.NewControlPaging(2))
	res, err = c.SearchWithPaging(req, 2)
	check(t, err)
	for _, e := range res.Entries {
		order = append(order, e.GetAttributeValue("sn"))
	}
	if !slices.Equal(order, []string{"Jansen", "de Vries", "Bakker"}) {
		t.Errorf("paged sorted order %q", order)
	}
	// VLV: critical -> unavailableCriticalExtension; otherwise ignored.
	vlv := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
	vlv.Controls = []ldap.Control{ldap.NewControlString(ldap.ControlTypeVLVRequest, true, "\x30\x00")}
	if _, err := c.Search(vlv); resultCode(err) != ldap.LDAPResultUnavailableCriticalExtension {
		t.Errorf("critical VLV: %v", err)
	}
	vlv.Controls = []ldap.Control{ldap.NewControlString(ldap.ControlTypeVLVRequest, false, "\x30\x00")}
	if res, err := c.Search(vlv); err != nil || len(res.Entries) != 3 {
		t.Errorf("non-critical VLV: %v", err)
	}
	// Sorting by an attribute nobody has, critical.
	bad := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
	ctl := ldap.NewControlServerSideSortingWithSortKeys([]*ldap.SortKey{{AttributeType: "shoeSize"}})
	bad.Controls = []ldap.Control{ldap.NewControlString(ldap.ControlTypeServerSideSorting, true, ctl.Encode().Children[1].Data.String())}
	if _, err := c.Search(bad); resultCode(err) != ldap.LDAPResultUnavailableCriticalExtension {
		t.Errorf("critical sort on unknown attribute: %v", err)
	}
}

// A paged search may page past the server's size limit (each page is bounded); the
// client's own limit still holds.
func TestPagingBeyondServerLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{SizeLimit: 5})
	addPeople(t, f, 9)
	c := f.phonebook(t)
	req := search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
	res, err := c.SearchWithPaging(req, 4)
	check(t, err)
	if len(res.Entries) != 12 {
		t.Errorf("paged past the server limit: %d entries, want 12", len(res.Entries))
	}
	req = search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=person)", "cn")
	req.SizeLimit = 6
	res, err = c.SearchWithPaging(req, 4)
	if resultCode(err) != ldap.LDAPResultSizeLimitExceeded || len(res.Entries) != 6 {
		t.Errorf("client limit while paging: %d entries, %v", len(res.Entries), err)
	}
}

func TestJPEGPhoto(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	photo := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1}
	f.dir.Load(Tenant{Slug: "pics", PhonebookPassword: "pics-password"}, nil,
		[]Person{{ID: "p1", FirstName: "Pia", LastName: "Foto", Photo: photo}, {ID: "p2", FirstName: "No", LastName: "Photo"}})
	c := f.dial(t)
	check(t, c.Bind("cn=phonebook,o=pics,dc=dialtone", "pics-password"))
	res, err := c.Search(search("o=pics,dc=dialtone", ldap.ScopeWholeSubtree, "(jpegPhoto=*)", "cn", "jpegPhoto"))
	check(t, err)
	if len(res.Entries) != 1 || !slices.Equal(res.Entries[0].GetRawAttributeValue("jpegPhoto"), photo) {
		t.Errorf("jpegPhoto: %+v", res.Entries)
	}
}
