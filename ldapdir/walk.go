package ldapdir

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// walk visits the entries a search's base and scope cover, evaluates the filter and sends
// what matches, honouring the size limit, time limit, paging and sorting.
type walk struct {
	c        *conn
	r        *searchReq
	snap     *snapshot // nil: the client sees only dc=dialtone
	ref      ref
	limit    int
	deadline time.Time
	matched  int
	sent     int
	visited  int
	code     int
	stop     bool

	slot int // the person slot being visited, -1 for other entries
	from int // resuming: entries before this slot were sent on earlier pages; -1 not resuming
}

// resumePoint is where a paged search goes on: the slot of the next person to send, in
// the slot layout it was counted in. Slots stay put while people are added and removed;
// only a full reload lays them out anew (snapshot.layout), and then the offset is used.
type resumePoint struct {
	slot   int // -1: none
	layout uint32
}

type sortKey struct {
	attr    attrID
	reverse bool
}

// run returns a non-success code and matchedDN when the base does not exist.
func (w *walk) run() (int, string) {
	r, s := w.r, w.snap
	if r.paged && r.pageSize == 0 {
		return resultSuccess, "" // RFC 2696 §3: size 0 abandons the paged search
	}
	w.slot, w.from = -1, -1
	if r.offset > 0 && r.resume.slot >= 0 && s != nil && r.resume.layout == s.layout {
		// Every entry before the resume point matched or was passed over on earlier
		// pages: skip them unevaluated instead of counting r.offset matches again.
		w.from, w.matched = r.resume.slot, r.offset
	}
	one, sub := r.scope == ldap.ScopeSingleLevel, r.scope == ldap.ScopeWholeSubtree
	switch w.ref.kind {
	case refRoot:
		if !one {
			w.visit(w.c.srv.dir.root)
		}
		if s != nil && (one || sub) {
			w.visit(s.top)
			if sub {
				w.tenantBelow()
			}
		}
	case refTenant:
		if !one {
			w.visit(s.top)
		}
		if one {
			w.visit(s.people)
			w.departments()
		} else if sub {
			w.tenantBelow()
		}
	case refPeople:
		if !one {
			w.visit(s.people)
		}
		if one || sub {
			w.persons()
		}
	case refDepartment:
		ndn := "ou=" + w.ref.rest + ",o=" + strings.ToLower(s.tenant.Slug) + "," + suffix
		i := slices.IndexFunc(s.depts, func(e *entry) bool { return e.ndn == ndn })
		if i < 0 {
			return resultNoSuchObject, s.top.dn
		}
		if !one {
			w.visit(s.depts[i])
		}
	case refPerson:
		e := s.personByID(w.ref.rest)
		if e == nil {
			return resultNoSuchObject, s.people.dn
		}
		if !one {
			w.visit(e)
		}
	}
	w.finish()
	return resultSuccess, ""
}

func (w *walk) tenantBelow() {
	w.visit(w.snap.people)
	w.departments()
	w.persons()
}

func (w *walk) departments() {
	for _, e := range w.snap.depts {
		w.visit(e)
	}
}

// persons visits people: only the index's candidates when the filter allows, else all.
// When the candidates are exactly the matches (node.exact), only dirty slots are evaluated.
func (w *walk) persons() {
	s := w.snap
	if w.r.filter.indexable(s) {
		n := words(len(s.persons))
		if cap(w.c.bits) < n {
			w.c.bits = make(bitset, n)
		}
		b := w.c.bits[:n]
		b.clear()
		w.r.filter.collect(s, b)
		var dirty bitset // set: the slots to evaluate though marked
		if w.r.filter.exact(s) {
			if cap(w.c.dirty) < n {
				w.c.dirty = make(bitset, n)
			}
			dirty = w.c.dirty[:n]
			dirty.clear()
		}
		for _, slot := range s.dirty {
			b.set(slot)
			if dirty != nil {
				dirty.set(slot)
			}
		}
		for i := max(w.from, 0) / 64; i < len(b); i++ {
			for word := b[i]; word != 0 && !w.stop; word &= word - 1 {
				slot := i*64 + bits.TrailingZeros64(word)
				if e := s.persons[slot]; e != nil {
					w.visitPerson(slot, e, dirty != nil && !dirty.has(uint32(slot)))
				}
			}
		}
		return
	}
	for slot := max(w.from, 0); slot < len(s.persons) && !w.stop; slot++ {
		if e := s.persons[slot]; e != nil {
			w.visitPerson(slot, e, false)
		}
	}
}

// visitPerson visits the person in slot; matches: the filter is known to match it.
func (w *walk) visitPerson(slot int, e *entry, matches bool) {
	w.slot = slot
	w.see(e, matches)
	w.slot = -1
}

func (w *walk) visit(e *entry) { w.see(e, false) }

func (w *walk) see(e *entry, matches bool) {
	if w.stop || w.slot < w.from {
		return // stopped, or sent before the resume point (other entries come before people)
	}
	if w.visited++; w.visited&63 == 0 && w.c.srv.now().After(w.deadline) {
		w.code, w.stop = resultTimeLimit, true // RFC 4511 §4.5.1.5
		return
	}
	if !matches && w.r.filter.eval(e) != tTrue {
		return
	}
	if w.r.sortKeys != nil {
		w.c.hits = append(w.c.hits, e)
		return
	}
	w.emit(e)
}

func (w *walk) emit(e *entry) {
	r := w.r
	w.matched++
	if w.matched <= r.offset {
		return
	}
	if r.paged && w.sent >= r.pageSize {
		next := resumePoint{slot: -1}
		if w.slot >= 0 && r.sortKeys == nil {
			next = resumePoint{slot: w.slot, layout: w.snap.layout} // e is the next page's first
		}
		r.cookie = w.c.cookie(r, r.offset+w.sent, next)
		w.stop = true
		return
	}
	if r.offset+w.sent >= w.limit {
		w.code, w.stop = resultSizeLimit, true // RFC 4511 §4.5.1.4: what fits, then 4
		return
	}
	w.c.sendEntry(r, e)
	w.sent++
}

// finish sends sorted results (RFC 2891): by each key's first normalised value, entries
// without the attribute last.
func (w *walk) finish() {
	if w.r.sortKeys == nil {
		return
	}
	hits := w.c.hits
	defer func() { clear(hits); w.c.hits = hits[:0] }()
	if w.code == resultTimeLimit {
		return
	}
	keys := w.r.sortKeys
	slices.SortStableFunc(hits, func(a, b *entry) int {
		for _, k := range keys {
			c := compareFirst(a.norm[k.attr], b.norm[k.attr])
			if k.reverse {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	w.stop = false
	for _, e := range hits {
		if w.stop {
			break
		}
		w.emit(e)
	}
}

func compareFirst(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	return strings.Compare(a[0], b[0])
}

// A paged-results cookie (RFC 2696 §3) is the offset of the next entry, where to resume
// (slot+1, 0 for none, and the slot layout) and a hash of the search it belongs to, so a
// cookie from another search is refused. The offset alone would do, but finding the
// offset-th match again costs a walk over every earlier page: paging a whole book would
// be quadratic.
func (c *conn) cookie(r *searchReq, offset int, at resumePoint) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint32(b, uint32(offset))
	binary.BigEndian.PutUint32(b[4:], uint32(at.slot+1))
	binary.BigEndian.PutUint32(b[8:], at.layout)
	binary.BigEndian.PutUint32(b[12:], searchHash(r))
	return b
}

func (c *conn) readCookie(r *searchReq, b []byte) (int, resumePoint, bool) {
	if len(b) != 16 || binary.BigEndian.Uint32(b[12:]) != searchHash(r) {
		return 0, resumePoint{}, false
	}
	offset, slot := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if offset > math.MaxInt32 || slot > math.MaxInt32 {
		return 0, resumePoint{}, false
	}
	return int(offset), resumePoint{slot: int(slot) - 1, layout: binary.BigEndian.Uint32(b[8:])}, true
}

func searchHash(r *searchReq) uint32 {
	h := fnv.New32a()
	h.Write(r.base)
	h.Write([]byte{byte(r.scope)})
	h.Write(r.rawFilter)
	return h.Sum32()
}
