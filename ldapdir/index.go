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
// ordering assertions are binary searches into it.
type prefixIndex struct {
	keys  []string
	slots []uint32
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
		x := &prefixIndex{keys: make([]string, len(pairs)), slots: make([]uint32, len(pairs))}
		for i, p := range pairs {
			x.keys[i], x.slots[i] = p.key, p.slot
		}
		set[a] = x
	}
	return &set
}

func (x *prefixIndex) lower(v string) int {
	return sort.Search(len(x.keys), func(i int) bool { return x.keys[i] >= v })
}

// equal marks every slot whose value equals v.
func (x *prefixIndex) equal(v string, b bitset) {
	for i := x.lower(v); i < len(x.keys) && x.keys[i] == v; i++ {
		b.set(x.slots[i])
	}
}

// prefix marks every slot with a value starting with p: the keys from the first >= p
// while they start with p (sorted, they are together).
func (x *prefixIndex) prefix(p string, b bitset) {
	lo := x.lower(p)
	hi := lo + sort.Search(len(x.keys)-lo, func(i int) bool { return !strings.HasPrefix(x.keys[lo+i], p) })
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
