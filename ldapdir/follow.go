package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dialtone/dialtone/store"
)

// PhotoSource reads a user's photo (JPEG) when the user record says there is one.
type PhotoSource interface {
	Photo(tenant, userID string) ([]byte, error)
}

// Follower keeps a Directory equal to the store: it loads every tenant once and then
// applies the store's change events (tenants, departments, users) as they commit, so a
// change is visible to the next search.
type Follower struct {
	st     *store.Store
	dir    *Directory
	photos PhotoSource

	mu    sync.Mutex
	ready bool
	// reloading: a reload after a missed change is under way (Loaded).
	reloading bool
	queue     []store.Change
	tenants   map[string]*followed
	cancel    func()
}

type followed struct {
	tenant store.Tenant
	depts  map[string]store.Department
	users  map[string]store.User
}

// Follow fills dir from st and subscribes to its changes; photos may be nil. Stop ends it.
func Follow(st *store.Store, dir *Directory, photos PhotoSource) (*Follower, error) {
	f := &Follower{st: st, dir: dir, photos: photos, tenants: map[string]*followed{}}
	// Subscribe first and queue, so nothing committed during the load is lost; replaying
	// the queue in commit order afterwards ends at the current state.
	f.cancel = st.Subscribe(f.apply, store.KindTenant, store.KindDepartment, store.KindUser)
	if err := f.load(); err != nil {
		f.cancel()
		return nil, err
	}
	f.mu.Lock()
	for _, c := range f.queue {
		f.applyLocked(c)
	}
	f.queue, f.ready = nil, true
	f.mu.Unlock()
	return f, nil
}

// Loaded reports whether the directory holds the store's state: the first load is done
// and no reload after a missed change is under way.
func (f *Follower) Loaded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready && !f.reloading
}

// Stop ends the subscription.
func (f *Follower) Stop() { f.cancel() }

func (f *Follower) load() error {
	tenants, err := f.st.Tenants()
	if err != nil {
		return fmt.Errorf("ldap directory: tenants: %w", err)
	}
	for _, t := range tenants {
		ft := &followed{tenant: t, depts: map[string]store.Department{}, users: map[string]store.User{}}
		err := f.st.View(func(tx *store.Tx) error {
			ds, err := tx.Departments(t.Slug, "", 0)
			if err != nil {
				return err
			}
			for _, d := range ds {
				ft.depts[d.ID] = d
			}
			return tx.EachUser(t.Slug, func(u store.User) bool { ft.users[u.ID] = u; return true })
		})
		if err != nil {
			return fmt.Errorf("ldap directory: tenant %s: %w", t.Slug, err)
		}
		var depts []Department
		for _, d := range ft.depts {
			depts = append(depts, Department{ID: d.ID, Name: d.Name})
		}
		people := make([]Person, 0, len(ft.users))
		for _, u := range ft.users {
			people = append(people, f.person(ft, &u))
		}
		f.mu.Lock()
		f.tenants[t.Slug] = ft
		f.mu.Unlock()
		f.dir.Load(f.tenant(t), depts, people)
	}
	return nil
}

func (f *Follower) tenant(t store.Tenant) Tenant {
	pw, err := f.st.PhonebookPassword(t)
	if err != nil {
		pw = "" // unreadable: nobody can bind as the phonebook account
	}
	return Tenant{Slug: t.Slug, Name: t.Name, PhonebookPassword: pw, AnonymousSearch: t.AnonymousLDAP,
		UserNeedsTLS: t.LDAPRequireTLS(), PhonebookNeedsTLS: !t.LDAPPhonebookCleartext()}
}

// person maps a store user to a phonebook entry; users of every role are listed.
func (f *Follower) person(ft *followed, u *store.User) Person {
	p := Person{
		ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, DisplayName: u.DisplayName(),
		Email: u.Email, Mobile: u.Mobile, Language: u.Language,
		Extensions: u.Extensions, Numbers: u.ExternalNumbers,
	}
	if d, ok := ft.depts[u.DepartmentID]; ok {
		p.Department = d.Name
		if p.Language == "" {
			p.Language = d.Language
		}
	}
	if p.Language == "" {
		p.Language = ft.tenant.Language
	}
	if u.Photo && f.photos != nil {
		if b, err := f.photos.Photo(u.Tenant, u.ID); err == nil {
			p.Photo = b
		}
	}
	return p
}

func (f *Follower) apply(c store.Change) {
	f.mu.Lock()
	if !f.ready {
		if c.Op != store.OpReload { // the first load is still under way
			f.queue = append(f.queue, c)
		}
		f.mu.Unlock()
		return
	}
	if c.Op == store.OpReload {
		f.mu.Unlock()
		f.reload()
		return
	}
	defer f.mu.Unlock()
	f.applyLocked(c)
}

// reload loads every tenant again after a missed change (store.OpReload). It runs in
// the store's publish turn, so no change is applied meanwhile; changes committed after
// the load read follow it and end at the same state.
func (f *Follower) reload() {
	f.mu.Lock()
	before := f.tenants
	f.tenants = map[string]*followed{}
	f.reloading = true
	f.mu.Unlock()
	err := f.load()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloading = false
	if err != nil {
		f.tenants = before // keep serving what we had; the next miss tries again
		return
	}
	for slug := range before {
		if f.tenants[slug] == nil {
			f.dir.RemoveTenant(slug)
		}
	}
}

func (f *Follower) applyLocked(c store.Change) {
	switch c.Kind {
	case store.KindTenant:
		if c.Op == store.OpDelete {
			delete(f.tenants, c.Tenant)
			f.dir.RemoveTenant(c.Tenant)
			return
		}
		t, ok := c.New.(store.Tenant)
		if !ok {
			return
		}
		ft := f.tenants[t.Slug]
		if ft == nil {
			ft = &followed{depts: map[string]store.Department{}, users: map[string]store.User{}}
			f.tenants[t.Slug] = ft
		}
		langChanged := ft.tenant.Language != t.Language
		ft.tenant = t
		f.dir.PutTenant(f.tenant(t))
		if langChanged {
			for _, u := range ft.users {
				f.dir.PutPerson(t.Slug, f.person(ft, &u))
			}
		}
	case store.KindDepartment:
		ft := f.tenants[c.Tenant]
		if ft == nil {
			return
		}
		old, had := ft.depts[c.ID]
		if c.Op == store.OpDelete {
			delete(ft.depts, c.ID)
			if had {
				f.dir.RemoveDepartment(c.Tenant, old.Name)
			}
		} else if d, ok := c.New.(store.Department); ok {
			ft.depts[c.ID] = d
			prevName := ""
			if had && old.Name != d.Name {
				prevName = old.Name
			}
			f.dir.PutDepartment(c.Tenant, Department{ID: d.ID, Name: d.Name}, prevName)
		}
		for _, u := range ft.users { // members carry the name in ou
			if u.DepartmentID == c.ID {
				f.dir.PutPerson(c.Tenant, f.person(ft, &u))
			}
		}
	case store.KindUser:
		ft := f.tenants[c.Tenant]
		if ft == nil {
			return
		}
		if c.Op == store.OpDelete {
			delete(ft.users, c.ID)
			f.dir.RemovePerson(c.Tenant, c.ID)
			return
		}
		if u, ok := c.New.(store.User); ok {
			ft.users[u.ID] = u
			f.dir.PutPerson(c.Tenant, f.person(ft, &u))
		}
	}
}

// StoreAuth checks login passwords against the store's password hashes; it satisfies
// Authenticator.
type StoreAuth struct{ Store *store.Store }

// CheckPassword reports whether password is the user's login password. For a user that
// does not exist (userID "") or has no password it spends the time of a real check. The
// check runs in the store's password gate, on the user's share of it: ratelimit.ErrBusy
// when the gate stays full or the user's password is already being checked.
func (a StoreAuth) CheckPassword(ctx context.Context, tenant, userID, password string) (bool, error) {
	u, err := a.Store.User(tenant, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		return false, a.Store.Secrets().SpendPasswordCheck(ctx, "", password)
	}
	if err != nil {
		return false, err
	}
	return a.Store.Secrets().CheckPassword(ctx, "user/"+u.Tenant+"/"+u.ID, password, u.PasswordHash)
}
