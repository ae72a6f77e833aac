package ldapdir

import (
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/store"
	"github.com/go-ldap/ldap/v3"
)

// rename sets a user's last name in its own transaction, reading the stored record
// first (as the admin API does).
func rename(st *store.Store, tenant, id, last string) error {
	return st.Update(func(tx *store.Tx) error {
		u, err := tx.User(tenant, id)
		if err != nil {
			return err
		}
		next := u
		next.LastName = last
		return tx.SaveUser(u, next)
	})
}

// Two quick updates of one user, from two writers at once, many times: the directory ends
// with the stored (newest) name every time, whichever writer returned first.
func TestConcurrentUpdatesEndWithNewest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	// Another subscriber ahead of the directory (as the registrar and provisioning are in
	// the server) takes a varying while over each change.
	var seed atomic.Uint64
	stop := f.st.Subscribe(func(store.Change) {
		for range seed.Add(7) % 64 {
			runtime.Gosched()
		}
	})
	t.Cleanup(stop)
	f.follower.Stop()
	var err error
	f.follower, err = Follow(f.st, f.dir, nil)
	check(t, err)
	t.Cleanup(f.follower.Stop)
	c := f.phonebook(t)
	id := f.ids["Cees"]
	for i := range 300 {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = rename(f.st, "acme", id, "Bakker"+strconv.Itoa(i)+"x"+strconv.Itoa(w))
			}()
		}
		wg.Wait()
		check(t, errors.Join(errs...))
		stored, err := f.st.User("acme", id)
		check(t, err)
		res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(givenName=Cees)", "sn"))
		check(t, err)
		if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("sn") != stored.LastName {
			var got []string
			for _, e := range res.Entries {
				got = append(got, e.GetAttributeValue("sn"))
			}
			t.Fatalf("round %d: directory has sn %q, the store %q", i, got, stored.LastName)
		}
	}
}

// A change the follower missed (its callback panicked on it) is caught up by the reload
// the store asks for: the directory does not stay stale until a restart. Other
// subscribers and the writer are not stopped by the panic.
func TestMissedChangeReloads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	id := f.ids["Cees"]
	// Make the follower's own callback fail once: a photo source that panics.
	f.follower.photos = &panickyPhotos{}
	u, err := f.st.User("acme", id)
	check(t, err)
	before := crash.Count("store")
	check(t, f.st.Update(func(tx *store.Tx) error {
		next := u
		next.LastName, next.Photo = "Missed", true
		return tx.SaveUser(u, next)
	}))
	if crash.Count("store") != before+2 { // the change, then the reload it asked for
		t.Fatalf("panics counted: %d, want 2", crash.Count("store")-before)
	}
	// The photo source works again: the next change (of anyone) brings the reload.
	f.follower.photos = nil
	check(t, rename(f.st, "acme", f.ids["Anna"], "de Vries-Smit"))
	res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(givenName=Cees)", "sn"))
	check(t, err)
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("sn") != "Missed" {
		t.Fatalf("after a missed change and a reload: %v", res.Entries)
	}
}

type panickyPhotos struct{}

func (panickyPhotos) Photo(tenant, userID string) ([]byte, error) { panic("test: photo store broken") }
