package ldapdir

import (
	"slices"
	"testing"

	"github.com/dialtone/dialtone/store"
	"github.com/go-ldap/ldap/v3"
)

func TestChangesVisibleToNextSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	find := func(filter string) []string {
		t.Helper()
		res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, filter, "cn", "ou", "telephoneNumber"))
		check(t, err)
		return cns(res)
	}
	// A new user is found by name and number right away.
	var dora store.User
	check(t, f.st.Update(func(tx *store.Tx) (err error) {
		dora, _, err = tx.CreateUser("acme", store.NewUser{FirstName: "Dora", LastName: "Smit", Extensions: []string{"250"}})
		return err
	}))
	if got := find("(|(cn=dora*)(sn=dora*))"); !slices.Equal(got, []string{"Dora Smit"}) {
		t.Fatalf("new user by name: %q", got)
	}
	if got := find("(|(telephoneNumber=250)(mobile=250))"); !slices.Equal(got, []string{"Dora Smit"}) {
		t.Fatalf("new user by number: %q", got)
	}
	// Renamed and renumbered: the old name and number no longer match.
	check(t, f.st.Update(func(tx *store.Tx) error {
		next := dora
		next.LastName, next.Extensions = "Visser", []string{"251"}
		return tx.SaveUser(dora, next)
	}))
	if got := find("(sn=smit)"); len(got) != 0 {
		t.Errorf("old name still found: %q", got)
	}
	if got := find("(telephoneNumber=250)"); len(got) != 0 {
		t.Errorf("old number still found: %q", got)
	}
	if got := find("(&(sn=vis*)(telephoneNumber=251))"); !slices.Equal(got, []string{"Dora Visser"}) {
		t.Errorf("after rename: %q", got)
	}
	// A department rename reaches its members' ou.
	check(t, f.st.Update(func(tx *store.Tx) error {
		next := f.sales
		next.Name = "Field Sales"
		return tx.SaveDepartment(f.sales, next)
	}))
	if got := find("(ou=field sales)"); !slices.Equal(got, []string{"", "Anna de Vries"}) {
		t.Errorf("department rename: %q", got) // the ou entry itself and its member
	}
	// Deleted: gone.
	check(t, f.st.Update(func(tx *store.Tx) error { _, err := tx.DeleteUser("acme", dora.ID); return err }))
	if got := find("(cn=dora*)"); len(got) != 0 {
		t.Errorf("deleted user still found: %q", got)
	}
}

// Many changes after the index was built: dirty slots are searched until the indexes are
// rebuilt, and the answers stay right either way.
func TestDirtySlotsAndRebuild(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	var people []Person
	for i := 0; i < 200; i++ {
		people = append(people, Person{ID: "p" + itoa(i), FirstName: "First" + itoa(i), LastName: "Last", Extensions: []string{itoa(1000 + i)}})
	}
	d.Load(Tenant{Slug: "t"}, nil, people)
	for i := 0; i < 300; i++ { // several rebuilds happen on the way
		d.PutPerson("t", Person{ID: "p" + itoa(i%200), FirstName: "Renamed" + itoa(i), LastName: "Last", Extensions: []string{itoa(5000 + i)}})
		snap := d.snapshot("t")
		hits := matchAll(t, snap, "(|(givenName=renamed"+itoa(i)+")(telephoneNumber="+itoa(5000+i)+"))")
		if len(hits) != 1 {
			t.Fatalf("change %d: %d hits", i, len(hits))
		}
	}
	d.RemovePerson("t", "p5")
	if hits := matchAll(t, d.snapshot("t"), "(uid=p5)"); len(hits) != 0 {
		t.Error("removed person found")
	}
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
