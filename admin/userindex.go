package admin

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/dialtone/dialtone/store"
)

// The users index: what GET …/users?q=…&sort=… searches and sorts by, per tenant, in
// memory. A tenant's index is loaded from the store the first time a search asks for it
// and then follows the store's change events (users, departments, tenants), which come
// in commit order before the writer returns: a change made through the API is in the
// next search. Each sort order is kept sorted, so a page is a binary search for the
// cursor and a walk of at most the page's length (further only past users a q or
// department_id leaves out); a search reads no user from the store but the page's own.
// A change costs a binary search and a move of pointers in each order; a department's
// rename re-sorts the department order (a few milliseconds at 10,000 users).
//
// Memory: one entry per user holds its id, department id, names, the lower-case text a
// search matches and the six folded sort keys (and an empty one for the id order) (each at most maxSortKey bytes; a key
// equal to its source shares its bytes), plus its place in the map and the seven orders:
// about 0.5 KB a user (BenchmarkUserIndexLoad: 497 B), 5 MB for a tenant of 10,000.
// Indexes of all tenants together hold at most userIndexBudget users (about 50 MB):
// loading one past that drops the least recently searched other tenants' indexes, which
// load again when next asked for (a tenant larger than the budget is then held alone).
// Loading 10,000 users takes some tens of milliseconds, once, in the first search of the
// tenant.

// userIndexBudget bounds the users held in the index over all tenants.
const userIndexBudget = 100_000

// userSort is one of the sort orders of ?sort=.
type userSort int

const (
	sortName userSort = iota
	sortLastName
	sortEmail
	sortExtension
	sortDepartment
	sortRole
	sortID // id order, for GET …/users?department_id= without q or sort (key "")
	numSorts
)

// userSorts are the ?sort= values; "-" before one reverses it.
var userSorts = map[string]userSort{
	"name": sortName, "last_name": sortLastName, "email": sortEmail,
	"extension": sortExtension, "department": sortDepartment, "role": sortRole,
}

// indexedUser is a user's entry in the index.
type indexedUser struct {
	id, dept string
	name     string // first and last name, for the department key
	hay      string // what a search term is looked for in: searchText
	keys     [numSorts]string
}

// departmentKey sorts by department name, then by name.
func departmentKey(deptName, name string) string { return foldKey(deptName + "\x01" + name) }

func newIndexedUser(u store.UserBrief, deptName string) *indexedUser {
	name := u.FirstName + " " + u.LastName
	e := &indexedUser{id: u.ID, dept: u.DepartmentID, name: name, hay: searchText(u)}
	e.keys[sortName] = foldKey(name)
	e.keys[sortLastName] = foldKey(u.LastName + " " + u.FirstName)
	e.keys[sortEmail] = foldKey(cmp.Or(u.Email, "\uffff"))
	e.keys[sortExtension] = foldKey(extSortKey(u.Extensions))
	e.keys[sortDepartment] = departmentKey(deptName, name)
	e.keys[sortRole] = foldKey(string(rune('0'+u.Role.Rank())) + name)
	return e
}

// compareAt orders entries by one sort key, then id.
func compareAt(s userSort, x *indexedUser, key, id string) int {
	if c := strings.Compare(x.keys[s], key); c != 0 {
		return c
	}
	return strings.Compare(x.id, id)
}

// tenantUsers is one tenant's index. Until loaded is closed it is being loaded, and the
// changes that arrive meanwhile wait in queue.
type tenantUsers struct {
	loaded  chan struct{}
	loadErr error

	mu       sync.RWMutex
	ready    bool
	queue    []store.Change
	users    map[string]*indexedUser
	depts    map[string]string // department id → name
	orders   [numSorts][]*indexedUser
	lastUsed uint64 // the index's use counter at its last search (under userIndex.mu)
}

// userIndex holds the tenants' indexes and their subscription to the store.
type userIndex struct {
	st     *store.Store
	budget int // users held over all tenants: userIndexBudget

	mu         sync.Mutex
	subscribed bool
	uses       uint64
	tenants    map[string]*tenantUsers
}

func newUserIndex(st *store.Store) *userIndex {
	return &userIndex{st: st, budget: userIndexBudget, tenants: map[string]*tenantUsers{}}
}

// tenant answers the tenant's index, loading it on first use.
func (x *userIndex) tenant(slug string) (*tenantUsers, error) {
	x.mu.Lock()
	if !x.subscribed {
		// Subscribed before the first load reads the store, so no commit after its
		// snapshot is missed. It lasts as long as the store.
		x.st.Subscribe(x.apply, store.KindTenant, store.KindDepartment, store.KindUser)
		x.subscribed = true
	}
	x.uses++
	t := x.tenants[slug]
	if t != nil {
		t.lastUsed = x.uses
		x.mu.Unlock()
		<-t.loaded
		return t, t.loadErr
	}
	// In the map before its load starts: changes committed from now on queue in it.
	t = &tenantUsers{loaded: make(chan struct{}), lastUsed: x.uses}
	x.tenants[slug] = t
	x.mu.Unlock()

	t.loadErr = t.load(x.st, slug)
	close(t.loaded)
	if t.loadErr != nil {
		x.mu.Lock()
		if x.tenants[slug] == t {
			delete(x.tenants, slug)
		}
		x.mu.Unlock()
		return nil, t.loadErr
	}
	x.keepBudget(t)
	return t, nil
}

// load reads the tenant's departments and users from one snapshot, then applies the
// changes queued since the index was created: they are a run of commits in commit order
// that ends at the latest, so applying them over the snapshot ends at the store's state.
func (t *tenantUsers) load(st *store.Store, slug string) error {
	depts := map[string]string{}
	var briefs []store.UserBrief
	err := st.View(func(tx *store.Tx) error {
		ds, err := tx.Departments(slug, "", 0)
		if err != nil {
			return err
		}
		for _, d := range ds {
			depts[d.ID] = d.Name
		}
		return tx.EachUserBrief(slug, func(u store.UserBrief) bool { briefs = append(briefs, u); return true })
	})
	if err != nil {
		return err
	}
	users := make(map[string]*indexedUser, len(briefs))
	all := make([]*indexedUser, 0, len(briefs))
	for _, u := range briefs {
		e := newIndexedUser(u, depts[u.DepartmentID])
		users[u.ID] = e
		all = append(all, e)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.users, t.depts = users, depts
	for s := range numSorts {
		t.orders[s] = slices.Clone(all)
		t.sortOrder(s)
	}
	for _, c := range t.queue {
		t.applyLocked(c)
	}
	t.queue, t.ready = nil, true
	return nil
}

func (t *tenantUsers) sortOrder(s userSort) {
	slices.SortFunc(t.orders[s], func(a, b *indexedUser) int { return compareAt(s, a, b.keys[s], b.id) })
}

// keepBudget drops the least recently used other tenants' indexes while all of them
// together hold more than the budget.
func (x *userIndex) keepBudget(keep *tenantUsers) {
	x.mu.Lock()
	defer x.mu.Unlock()
	type held struct {
		slug string
		t    *tenantUsers
		n    int
	}
	var all []held
	total := 0
	for slug, t := range x.tenants {
		t.mu.RLock()
		n := len(t.users)
		t.mu.RUnlock()
		all = append(all, held{slug, t, n})
		total += n
	}
	slices.SortFunc(all, func(a, b held) int { return cmp.Compare(a.t.lastUsed, b.t.lastUsed) })
	for _, h := range all {
		if total <= x.budget {
			return
		}
		if h.t != keep {
			delete(x.tenants, h.slug)
			total -= h.n
		}
	}
}

// apply is the store subscription: it runs in commit order, one change at a time.
func (x *userIndex) apply(c store.Change) {
	x.mu.Lock()
	switch {
	case c.Op == store.OpReload:
		// A change was missed (this callback panicked on it): every index loads again
		// when next asked for.
		x.tenants = map[string]*tenantUsers{}
		x.mu.Unlock()
		return
	case c.Kind == store.KindTenant:
		if c.Op == store.OpDelete {
			delete(x.tenants, c.Tenant)
		}
		x.mu.Unlock()
		return
	}
	t := x.tenants[c.Tenant]
	x.mu.Unlock()
	if t == nil {
		return // not loaded: nothing to keep current
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ready {
		t.queue = append(t.queue, c)
		return
	}
	t.applyLocked(c)
}

func (t *tenantUsers) applyLocked(c store.Change) {
	switch c.Kind {
	case store.KindUser:
		if old := t.users[c.ID]; old != nil {
			for s := range numSorts {
				t.orders[s] = removeEntry(t.orders[s], s, old)
			}
			delete(t.users, c.ID)
		}
		u, ok := c.New.(store.User)
		if c.Op == store.OpDelete || !ok {
			return
		}
		e := newIndexedUser(briefOf(u), t.depts[u.DepartmentID])
		t.users[e.id] = e
		for s := range numSorts {
			i, _ := slices.BinarySearchFunc(t.orders[s], e, func(a, b *indexedUser) int { return compareAt(s, a, b.keys[s], b.id) })
			t.orders[s] = slices.Insert(t.orders[s], i, e)
		}
	case store.KindDepartment:
		name := ""
		if d, ok := c.New.(store.Department); ok && c.Op != store.OpDelete {
			name = d.Name
		}
		prev, had := t.depts[c.ID]
		if c.Op == store.OpDelete {
			delete(t.depts, c.ID)
		} else {
			t.depts[c.ID] = name
		}
		if had && prev == name {
			return
		}
		// Renamed (or gone): its members' department keys change.
		moved := false
		for _, e := range t.users {
			if e.dept == c.ID {
				e.keys[sortDepartment] = departmentKey(name, e.name)
				moved = true
			}
		}
		if moved {
			t.sortOrder(sortDepartment)
		}
	}
}

// removeEntry takes e out of an order sorted by s.
func removeEntry(order []*indexedUser, s userSort, e *indexedUser) []*indexedUser {
	i, found := slices.BinarySearchFunc(order, e, func(a, b *indexedUser) int { return compareAt(s, a, b.keys[s], b.id) })
	if !found {
		return order
	}
	return slices.Delete(order, i, i+1)
}

// briefOf is the part of a user the index needs, as the store's EachUserBrief reads it.
func briefOf(u store.User) store.UserBrief {
	return store.UserBrief{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Role: u.Role, DepartmentID: u.DepartmentID, Mobile: u.Mobile,
		Extensions: u.Extensions, ExternalNumbers: u.ExternalNumbers}
}

// indexHit is one user of a page: the id to read and the sort key its cursor carries.
type indexHit struct{ id, key string }

// page walks the order s (reversed when desc) from just after the cursor (afterKey,
// afterID; none when afterID is empty), keeping the users of dept (any when empty) that
// match every term, and answers at most n of them.
func (t *tenantUsers) page(s userSort, desc bool, afterKey, afterID, dept string, terms []string, n int) []indexHit {
	t.mu.RLock()
	defer t.mu.RUnlock()
	order := t.orders[s]
	var out []indexHit
	keep := func(e *indexedUser) bool {
		if (dept == "" || e.dept == dept) && matchText(e.hay, terms) {
			out = append(out, indexHit{id: e.id, key: e.keys[s]})
		}
		return len(out) < n
	}
	if !desc {
		i := 0
		if afterID != "" {
			i, _ = slices.BinarySearchFunc(order, 0, func(e *indexedUser, _ int) int {
				if compareAt(s, e, afterKey, afterID) <= 0 {
					return -1
				}
				return 1
			})
		}
		for ; i < len(order) && keep(order[i]); i++ {
		}
		return out
	}
	j := len(order)
	if afterID != "" {
		j, _ = slices.BinarySearchFunc(order, 0, func(e *indexedUser, _ int) int {
			if compareAt(s, e, afterKey, afterID) < 0 {
				return -1
			}
			return 1
		})
	}
	for i := j - 1; i >= 0 && keep(order[i]); i-- {
	}
	return out
}

// searchText is the lower-case text of a user that a search matches: names, email,
// mobile, extensions and external numbers.
func searchText(u store.UserBrief) string {
	return strings.ToLower(u.FirstName + " " + u.LastName + "\x00" + u.Email + "\x00" + u.Mobile +
		"\x00" + strings.Join(u.Extensions, "\x00") + "\x00" + strings.Join(u.ExternalNumbers, "\x00"))
}

// matchText says whether every term occurs in hay.
func matchText(hay string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(hay, t) {
			return false
		}
	}
	return true
}
