package ldapdir

import (
	"encoding/binary"
	"hash/fnv"
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
		for _, slot := range s.dirty {
			b.set(slot)
		}
		for i, word := range b {
			for word != 0 && !w.stop {
				slot := i*64 + bits.TrailingZeros64(word)
				word &= word - 1
				if e := s.persons[slot]; e != nil {
					w.visit(e)
				}
			}
		}
		return
	}
	for _, e := range s.persons {
		if w.stop {
			return
		}
		if e != nil {
			w.visit(e)
		}
	}
}

func (w *walk) visit(e *entry) {
	if w.stop {
		return
	}
	if w.visited++; w.visited&63 == 0 && w.c.srv.now().After(w.deadline) {
		w.code, w.stop = resultTimeLimit, true // RFC 4511 §4.5.1.5
		return
	}
	if w.r.filter.eval(e) != tTrue {
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
		r.cookie = w.c.cookie(r, r.offset+w.sent)
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

// A paged-results cookie (RFC 2696 §3) is the offset of the next entry plus a hash of the
// search it belongs to, so a cookie from another search is refused.
func (c *conn) cookie(r *searchReq, offset int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, uint32(offset))
	binary.BigEndian.PutUint32(b[4:], searchHash(r))
	return b
}

func (c *conn) readCookie(r *searchReq, b []byte) (int, bool) {
	if len(b) != 8 || binary.BigEndian.Uint32(b[4:]) != searchHash(r) {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(b)), true
}

func searchHash(r *searchReq) uint32 {
	h := fnv.New32a()
	h.Write(r.base)
	h.Write([]byte{byte(r.scope)})
	h.Write(r.rawFilter)
	return h.Sum32()
}
