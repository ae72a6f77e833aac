package ldapdir

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Directory holds one in-memory subtree per tenant. Searches read a tenant's current
// snapshot without locking; changes build the next snapshot under the tenant's writer lock.
type Directory struct {
	mu      sync.RWMutex
	tenants map[string]*tenantDir // by lower-cased slug
	root    *entry
}

// NewDirectory returns an empty directory (only dc=dialtone).
func NewDirectory() *Directory {
	return &Directory{tenants: map[string]*tenantDir{}, root: rootEntry()}
}

// snapshot is an immutable view of one tenant's subtree.
type snapshot struct {
	tenant  Tenant
	top     *entry
	people  *entry
	depts   []*entry // sorted by normalised DN
	persons []*entry // by slot; nil slots are free
	idx     *indexSet
	dirty   []uint32  // slots changed since idx was built: always candidates
	xml     *xmlCache // rendered XML phonebooks of this snapshot (xml.go)
	layout  uint32    // counts full reloads, which lay the slots out anew (paging resumes by slot)
}

type tenantDir struct {
	mu     sync.Mutex // serialises writers
	snap   atomic.Pointer[snapshot]
	slotOf map[string]uint32 // person id -> slot
	free   []uint32
}

func (d *Directory) tenant(slug string) *tenantDir {
	d.mu.RLock()
	t := d.tenants[strings.ToLower(slug)]
	d.mu.RUnlock()
	return t
}

// snapshot returns the tenant's current view, or nil when there is no such tenant.
func (d *Directory) snapshot(slug string) *snapshot {
	if t := d.tenant(slug); t != nil {
		return t.snap.Load()
	}
	return nil
}

// PutTenant adds a tenant or updates its settings.
func (d *Directory) PutTenant(t Tenant) {
	d.mu.Lock()
	td := d.tenants[strings.ToLower(t.Slug)]
	if td == nil {
		td = &tenantDir{slotOf: map[string]uint32{}}
		s := &snapshot{tenant: t, top: tenantEntry(&t), people: peopleEntry(t.Slug), idx: buildIndexes(nil), xml: &xmlCache{}}
		td.snap.Store(s)
		d.tenants[strings.ToLower(t.Slug)] = td
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	td.update(func(s *snapshot) {
		s.tenant = t
		s.top = tenantEntry(&t)
	})
}

// RemoveTenant drops a tenant's subtree.
func (d *Directory) RemoveTenant(slug string) {
	d.mu.Lock()
	delete(d.tenants, strings.ToLower(slug))
	d.mu.Unlock()
}

// Tenants returns the slugs the directory holds.
func (d *Directory) Tenants() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]string, 0, len(d.tenants))
	for _, t := range d.tenants {
		out = append(out, t.snap.Load().tenant.Slug)
	}
	slices.Sort(out)
	return out
}

// update builds the next snapshot from a shallow copy of the current one.
func (td *tenantDir) update(fn func(s *snapshot)) {
	td.mu.Lock()
	defer td.mu.Unlock()
	next := *td.snap.Load()
	fn(&next)
	next.xml = &xmlCache{}
	td.snap.Store(&next)
}

// PutDepartment adds or renames a department entry (ou={name}). People carry their
// department's name in ou, set by PutPerson.
func (d *Directory) PutDepartment(slug string, dep Department, oldName string) {
	td := d.tenant(slug)
	if td == nil {
		return
	}
	td.update(func(s *snapshot) {
		s.depts = slices.Clone(s.depts)
		if oldName != "" {
			s.depts = slices.DeleteFunc(s.depts, func(e *entry) bool { return e.vals[aOU][0] == oldName })
		}
		e := departmentEntry(slug, &dep)
		s.depts = slices.DeleteFunc(s.depts, func(x *entry) bool { return x.ndn == e.ndn })
		i, _ := slices.BinarySearchFunc(s.depts, e.ndn, func(x *entry, k string) int { return strings.Compare(x.ndn, k) })
		s.depts = slices.Insert(s.depts, i, e)
	})
}

// RemoveDepartment drops the department entry with that name.
func (d *Directory) RemoveDepartment(slug, name string) {
	td := d.tenant(slug)
	if td == nil {
		return
	}
	td.update(func(s *snapshot) {
		s.depts = slices.DeleteFunc(slices.Clone(s.depts), func(e *entry) bool { return e.vals[aOU][0] == name })
	})
}

// PutPerson adds or replaces a person entry; the next search sees it.
func (d *Directory) PutPerson(slug string, p Person) {
	td := d.tenant(slug)
	if td == nil {
		return
	}
	e := personEntry(td.snap.Load().tenant.Slug, &p)
	td.update(func(s *snapshot) {
		slot, ok := td.slotOf[p.ID]
		if !ok {
			if n := len(td.free); n > 0 {
				slot, td.free = td.free[n-1], td.free[:n-1]
			} else {
				slot = uint32(len(s.persons))
			}
			td.slotOf[p.ID] = slot
		}
		s.persons = slices.Clone(s.persons)
		if int(slot) == len(s.persons) {
			s.persons = append(s.persons, e)
		} else {
			s.persons[slot] = e
		}
		td.markDirty(s, slot)
	})
}

// RemovePerson drops a person entry.
func (d *Directory) RemovePerson(slug, id string) {
	td := d.tenant(slug)
	if td == nil {
		return
	}
	td.update(func(s *snapshot) {
		slot, ok := td.slotOf[id]
		if !ok {
			return
		}
		delete(td.slotOf, id)
		td.free = append(td.free, slot)
		s.persons = slices.Clone(s.persons)
		s.persons[slot] = nil
	})
}

// markDirty records a changed slot; when many have piled up the indexes are rebuilt, so
// the work per change stays O(log n) amortised and a search's extra candidates stay few.
func (td *tenantDir) markDirty(s *snapshot, slot uint32) {
	if len(s.dirty) >= 32+len(s.persons)/8 {
		s.idx = buildIndexes(s.persons)
		s.dirty = nil
		return
	}
	s.dirty = append(slices.Clip(s.dirty), slot)
}

// Load replaces a tenant's whole subtree at once (start-up), building indexes once.
func (d *Directory) Load(t Tenant, depts []Department, people []Person) {
	d.PutTenant(t)
	td := d.tenant(t.Slug)
	td.mu.Lock()
	defer td.mu.Unlock()
	s := *td.snap.Load()
	s.depts = nil
	for i := range depts {
		s.depts = append(s.depts, departmentEntry(t.Slug, &depts[i]))
	}
	slices.SortFunc(s.depts, func(a, b *entry) int { return strings.Compare(a.ndn, b.ndn) })
	s.persons = make([]*entry, len(people))
	s.layout++
	td.slotOf = make(map[string]uint32, len(people))
	td.free = nil
	buildPersons(t.Slug, people, s.persons)
	for i := range people {
		td.slotOf[people[i].ID] = uint32(i)
	}
	s.idx = buildIndexes(s.persons)
	s.dirty = nil
	s.xml = &xmlCache{}
	td.snap.Store(&s)
}

// personByMail finds people whose mail equals addr (for binds by e-mail).
func (s *snapshot) personByMail(addr string) []*entry {
	var out []*entry
	n := normCaseIgnore(addr)
	x := s.idx[aMail]
	for i := x.lower(n); i < len(x.keys) && x.keys[i] == n; i++ {
		if e := s.persons[x.slots[i]]; e != nil && slices.Contains(e.norm[aMail], n) && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	for _, slot := range s.dirty {
		if e := s.persons[slot]; e != nil && slices.Contains(e.norm[aMail], n) && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// personByID finds a person entry by user id.
func (s *snapshot) personByID(id string) *entry {
	n := normCaseIgnore(id)
	x := s.idx[aUID]
	for i := x.lower(n); i < len(x.keys) && x.keys[i] == n; i++ {
		if e := s.persons[x.slots[i]]; e != nil && e.norm[aUID][0] == n {
			return e
		}
	}
	for _, slot := range s.dirty {
		if e := s.persons[slot]; e != nil && e.norm[aUID][0] == n {
			return e
		}
	}
	return nil
}

// buildPersons makes the entry of each person into out, on every core: at start-up a
// tenant of 100,000 people is mostly this work (encoding every attribute once).
func buildPersons(slug string, people []Person, out []*entry) {
	workers := runtime.GOMAXPROCS(0)
	if workers > 1 && len(people) >= 1024 {
		var wg sync.WaitGroup
		chunk := (len(people) + workers - 1) / workers
		for lo := 0; lo < len(people); lo += chunk {
			hi := min(lo+chunk, len(people))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					out[i] = personEntry(slug, &people[i])
				}
			})
		}
		wg.Wait()
		return
	}
	for i := range people {
		out[i] = personEntry(slug, &people[i])
	}
}
