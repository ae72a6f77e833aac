package ldapdir

import (
	"slices"
	"sort"
	"strings"
)

// indexed lists the attributes with a prefix index: the names phones search by and the
// numbers caller-ID lookups ask for (normalised by telephoneNumberMatch).
var indexed = []attrID{aUID, aCN, aSN, aGivenName, aDisplayName, aMail, aTelephone, aIPPhone, aMobile}

// prefixIndex is a sorted list of (normalised value, slot) pairs; equality, prefix and
// ordering assertions are binary searches into it. The searches compare heads, each key's
// first 8 bytes packed in one word and held side by side, and look at the keys themselves
// only among those with an equal head: a search then touches a few cache lines instead
// of one scattered string per step.
type prefixIndex struct {
	keys  []string
	heads []uint64 // head(keys[i])
	slots []uint32
}

// head packs the first 8 bytes of s big-endian, zero-padded: s <= t implies
// head(s) <= head(t), so heads are sorted as the keys are.
func head(s string) uint64 {
	var h uint64
	for i := 0; i < 8; i++ {
		h <<= 8
		if i < len(s) {
			h |= uint64(s[i])
		}
	}
	return h
}

// firstAbove returns the first i >= lo with heads[i] > h (or >= h when orEqual).
func (x *prefixIndex) firstAbove(lo int, h uint64, orEqual bool) int {
	hi := len(x.heads)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if v := x.heads[m]; v > h || orEqual && v == h {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

type indexSet [numUserAttrs]*prefixIndex

func buildIndexes(persons []*entry) *indexSet {
	var set indexSet
	type pair struct {
		key  string
		slot uint32
	}
	var pairs []pair
	for _, a := range indexed {
		pairs = pairs[:0]
		for slot, e := range persons {
			if e == nil {
				continue
			}
			for _, v := range e.norm[a] {
				pairs = append(pairs, pair{v, uint32(slot)})
			}
		}
		slices.SortFunc(pairs, func(x, y pair) int {
			if c := strings.Compare(x.key, y.key); c != 0 {
				return c
			}
			return int(x.slot) - int(y.slot)
		})
		x := &prefixIndex{keys: make([]string, len(pairs)), heads: make([]uint64, len(pairs)), slots: make([]uint32, len(pairs))}
		for i, p := range pairs {
			x.keys[i], x.heads[i], x.slots[i] = p.key, head(p.key), p.slot
		}
		set[a] = x
	}
	return &set
}

// lower returns the first i with keys[i] >= v: below the heads equal to v's every key is
// smaller, above them every key is greater.
func (x *prefixIndex) lower(v string) int {
	h := head(v)
	lo := x.firstAbove(0, h, true)
	if lo == len(x.heads) || x.heads[lo] != h {
		return lo
	}
	hi := x.firstAbove(lo, h, false)
	return lo + sort.Search(hi-lo, func(i int) bool { return x.keys[lo+i] >= v })
}

// equal marks every slot whose value equals v.
func (x *prefixIndex) equal(v string, b bitset) {
	for i := x.lower(v); i < len(x.keys) && x.keys[i] == v; i++ {
		b.set(x.slots[i])
	}
}

// prefix marks every slot with a value starting with p: the keys from the first >= p
// while they start with p (sorted, they are together). For a prefix of at most 8 bytes
// that is while the head is at most head(p) with the rest of the word all ones (a key
// that is >= p and has p's bytes there, zero padding included, is at least as long as p).
func (x *prefixIndex) prefix(p string, b bitset) {
	lo := x.lower(p)
	var hi int
	if len(p) <= 8 {
		hi = x.firstAbove(lo, head(p)|(1<<(64-8*len(p))-1), false)
	} else {
		hi = lo + sort.Search(len(x.keys)-lo, func(i int) bool { return !strings.HasPrefix(x.keys[lo+i], p) })
	}
	for _, slot := range x.slots[lo:hi] {
		b.set(slot)
	}
}

// atLeast marks values >= v; atMost values <= v (RFC 4511 §4.5.1.7.3-4).
func (x *prefixIndex) atLeast(v string, b bitset) {
	for i := x.lower(v); i < len(x.keys); i++ {
		b.set(x.slots[i])
	}
}

func (x *prefixIndex) atMost(v string, b bitset) {
	for i := 0; i < len(x.keys) && x.keys[i] <= v; i++ {
		b.set(x.slots[i])
	}
}

// bitset holds candidate person slots for one search.
type bitset []uint64

func (b bitset) set(i uint32)      { b[i>>6] |= 1 << (i & 63) }
func (b bitset) has(i uint32) bool { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bitset) clear()            { clear(b) }
func words(n int) int              { return (n + 63) / 64 }
