package store

import (
	"cmp"
	"slices"
	"strings"
)

// ResolveModel finds name (any case) in the model table. When it is not there, closest
// lists up to three known model names nearest to it by edit distance (Levenshtein, case
// folded), nearest first, so an error can say "did you mean".
func ResolveModel(models []PhoneModel, name string) (m PhoneModel, closest []string, ok bool) {
	for _, m := range models {
		if strings.EqualFold(m.Name, name) {
			return m, nil, true
		}
	}
	type scored struct {
		name string
		d    int
	}
	want := strings.ToUpper(name)
	all := make([]scored, 0, len(models))
	for _, m := range models {
		all = append(all, scored{m.Name, editDistance(want, strings.ToUpper(m.Name))})
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(a.d, b.d) })
	for _, s := range all[:min(3, len(all))] {
		closest = append(closest, s.name)
	}
	return PhoneModel{}, closest, false
}

// editDistance is the Levenshtein distance of a and b (bytes; model names are ASCII),
// with one row of memory. Inputs are model names (at most 64 bytes, checked before).
func editDistance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}
