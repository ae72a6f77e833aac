package ldapdir

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func compileText(t testing.TB, filter string) node {
	t.Helper()
	p, err := ldap.CompileFilter(filter)
	check(t, err)
	tv, _, err := next(p.Bytes())
	check(t, err)
	n, err := compileFilter(tv)
	check(t, err)
	return n
}

// matchAll evaluates a filter over a snapshot's people as a search does (walk.persons:
// index candidates when possible) and returns the matching entries. An empty sort
// order makes the walk collect its hits instead of sending them.
func matchAll(t testing.TB, s *snapshot, filter string) []*entry {
	w := walk{c: &conn{srv: New(nil, Options{})}, r: &searchReq{filter: compileText(t, filter), sortKeys: []sortKey{}},
		snap: s, deadline: time.Now().Add(time.Hour), slot: -1, from: -1}
	w.persons()
	return w.c.hits
}

func benchPeople(n int) []Person {
	first := []string{"Anna", "Bram", "Daan", "Emma", "Femke", "Gijs", "Hanna", "Jeroen", "Karin", "Lars"}
	last := []string{"de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer"}
	people := make([]Person, n)
	for i := range people {
		people[i] = Person{ID: "u" + itoa(1000+i), FirstName: first[i%len(first)], LastName: last[(i*7)%len(last)],
			Extensions: []string{itoa(1000 + i)}, Mobile: "+3161" + itoa(1000000+i), Department: "Sales"}
	}
	return people
}

func benchDirectory(n int) *Directory {
	d := NewDirectory()
	d.Load(Tenant{Slug: "bench", PhonebookPassword: "secret-secret"}, []Department{{ID: "d", Name: "Sales"}}, benchPeople(n))
	return d
}

// The phone mix is answered from the indexes: a search touches its candidates only.
func TestPhoneMixUsesIndexes(t *testing.T) {
	t.Parallel()
	d := benchDirectory(5000)
	s := d.snapshot("bench")
	for _, tc := range []struct {
		filter   string
		maxCands int
		want     int
	}{
		{"(|(cn=Jan*)(sn=Jan*))", 5000 / 8 * 2, 5000 / 8},
		{"(|(telephoneNumber=1234)(mobile=1234))", 1, 1},
		{"(|(telephoneNumber=3161 1000-042)(mobile=+31 61 1000 042))", 1, 1},
		{"(&(objectClass=person)(sn=smit))", 5000 / 8, 5000 / 8},
		{"(&(telephoneNumber=*)(displayName=Emma*))", 500, 500},
		{"(|(telephoneNumber=1234)(mobile=1234)(other=1234))", 1, 1},
	} {
		n := compileText(t, tc.filter)
		if !n.indexable(s) {
			t.Errorf("%s: not answered from an index", tc.filter)
			continue
		}
		b := make(bitset, words(len(s.persons)))
		n.collect(s, b)
		cands := 0
		for _, w := range b {
			cands += bits.OnesCount64(w)
		}
		if cands > tc.maxCands {
			t.Errorf("%s: %d candidates, want at most %d", tc.filter, cands, tc.maxCands)
		}
		if got := len(matchAll(t, s, tc.filter)); got != tc.want {
			t.Errorf("%s: %d matches, want %d", tc.filter, got, tc.want)
		}
	}
	if n := compileText(t, "(cn=*an*)"); n.indexable(s) {
		t.Error("a contains-search cannot use a prefix index")
	}
}

func TestTimeLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	f.dir.Load(Tenant{Slug: "bench", PhonebookPassword: "secret-secret"}, nil, benchPeople(2000))
	f.step.Store(int64(2 * time.Second)) // every reading of the clock is 2 s later
	c := f.dial(t)
	check(t, c.Bind("cn=phonebook,o=bench,dc=dialtone", "secret-secret"))
	req := search("o=bench,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=*)", "cn")
	req.TimeLimit = 1
	res, err := c.Search(req)
	if resultCode(err) != ldap.LDAPResultTimeLimitExceeded {
		t.Fatalf("time limit: %v", err)
	}
	if len(res.Entries) == 0 || len(res.Entries) >= 2000 {
		t.Errorf("time limit: %d entries before the limit", len(res.Entries))
	}
}

// The head-word searches find what a scan of the keys finds, for keys that share long
// prefixes, are shorter than 8 bytes, or hold zero and 0xff bytes.
func TestPrefixIndexMatchesScan(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := "\x00\x01ab\x7f\xfe\xff"
	word := func() string {
		b := make([]byte, rnd.IntN(12))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		if rnd.IntN(3) == 0 {
			return "31610001" + string(b) // a long shared prefix, as mobile numbers have
		}
		return string(b)
	}
	var persons []*entry
	for i := 0; i < 400; i++ {
		e := &entry{}
		e.norm[aCN] = []string{word(), word()}
		persons = append(persons, e)
	}
	x := buildIndexes(persons)[aCN]
	scan := func(match func(string) bool) []uint32 {
		var out []uint32
		for slot, e := range persons {
			if slices.ContainsFunc(e.norm[aCN], match) {
				out = append(out, uint32(slot))
			}
		}
		return out
	}
	marked := func(fill func(bitset)) []uint32 {
		b := make(bitset, words(len(persons)))
		fill(b)
		var out []uint32
		for i := range len(persons) {
			if b.has(uint32(i)) {
				out = append(out, uint32(i))
			}
		}
		return out
	}
	for i := 0; i < 3000; i++ {
		v := word()
		if i%2 == 0 { // a stored key or a prefix of one
			k := persons[rnd.IntN(len(persons))].norm[aCN][0]
			v = k[:rnd.IntN(len(k)+1)]
		}
		if got, want := marked(func(b bitset) { x.equal(v, b) }), scan(func(s string) bool { return s == v }); !slices.Equal(got, want) {
			t.Fatalf("equal %q: %v, want %v", v, got, want)
		}
		if got, want := marked(func(b bitset) { x.prefix(v, b) }), scan(func(s string) bool { return strings.HasPrefix(s, v) }); !slices.Equal(got, want) {
			t.Fatalf("prefix %q: %v, want %v", v, got, want)
		}
		if got, want := marked(func(b bitset) { x.atLeast(v, b) }), scan(func(s string) bool { return s >= v }); !slices.Equal(got, want) {
			t.Fatalf("atLeast %q: %v, want %v", v, got, want)
		}
	}
}
