package ldapdir

// Index planning: which person slots can match a filter, without walking every entry
// when the filter can be answered from a prefix index. Candidates are a superset; each is
// still evaluated against the whole filter.

var personClasses = map[string]bool{"top": true, "person": true, "organizationalperson": true, "inetorgperson": true}

// indexable reports whether n's candidates can be drawn from the indexes.
func (n *node) indexable(s *snapshot) bool {
	switch n.op {
	case fUndefined, fFalse:
		return true // never TRUE: no candidates
	case fOr:
		for i := range n.kids {
			if !n.kids[i].indexable(s) {
				return false
			}
		}
		return true
	case fAnd:
		return n.bestKid(s) >= 0
	case fEqual, fGreater, fLess:
		if n.attr == aObjectClass {
			return n.op == fEqual && !personClasses[n.val]
		}
		return n.attr < numUserAttrs && s.idx[n.attr] != nil
	case fSubstrings:
		return n.hasInitial && n.val != "" && n.attr < numUserAttrs && s.idx[n.attr] != nil
	}
	return false
}

// bestKid picks the AND member whose index answer is likely smallest: an equality first.
func (n *node) bestKid(s *snapshot) int {
	best := -1
	for i := range n.kids {
		k := &n.kids[i]
		if !k.indexable(s) {
			continue
		}
		if k.op == fEqual || k.op == fUndefined || k.op == fFalse {
			return i
		}
		if best < 0 {
			best = i
		}
	}
	return best
}

// exact reports whether n's candidates are exactly the people it matches, so that they
// need no evaluation: an OR of equality, ordering and initial-only substring assertions on
// indexed attributes. The index keys are the same normalised values evaluation compares
// (entry.norm), so an indexed slot matches iff it is marked. A dirty slot's keys may be
// stale; persons evaluates those.
func (n *node) exact(s *snapshot) bool {
	switch n.op {
	case fUndefined, fFalse:
		return true
	case fOr:
		for i := range n.kids {
			if !n.kids[i].exact(s) {
				return false
			}
		}
		return true
	case fEqual, fGreater, fLess:
		return n.attr != aObjectClass && n.attr < numUserAttrs && s.idx[n.attr] != nil
	case fSubstrings:
		return n.hasInitial && n.val != "" && len(n.any) == 0 && !n.hasFinal && n.attr < numUserAttrs && s.idx[n.attr] != nil
	}
	return false
}

// collect marks n's candidates in b; n must be indexable.
func (n *node) collect(s *snapshot, b bitset) {
	switch n.op {
	case fOr:
		for i := range n.kids {
			n.kids[i].collect(s, b)
		}
	case fAnd:
		n.kids[n.bestKid(s)].collect(s, b)
	case fEqual:
		if n.attr != aObjectClass {
			s.idx[n.attr].equal(n.val, b)
		}
	case fGreater:
		s.idx[n.attr].atLeast(n.val, b)
	case fLess:
		s.idx[n.attr].atMost(n.val, b)
	case fSubstrings:
		s.idx[n.attr].prefix(n.val, b)
	}
}
