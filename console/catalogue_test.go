package console

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// keyUse finds the catalogue keys the JavaScript names: t('key'), field('key', …), and
// properties ending in "Key" or named nav ({nav: 'nav.users'}, {confirmKey: '…'}). A
// literal ending in "." is the prefix of a key made at run time (t('lang.' + l)).
var keyUse = regexp.MustCompile(`(?:\b(?:t|field)\(\s*|\b(?:nav|[A-Za-z]*Key)\s*:\s*)(?:'([^'\\]+)'|"([^"\\]+)")`)

// comment matches whole-line // comments (their examples are not uses).
var comment = regexp.MustCompile(`(?m)^\s*//.*$`)

// catalogue reads one language's catalogue and fails on a key given twice.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := fs.ReadFile(web, "web/i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s.json: not an object", lang)
	}
	out := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s.json: %q: %v (flat string values only)", lang, k, err)
		}
		key := k.(string)
		if _, dup := out[key]; dup {
			t.Errorf("%s.json: %q twice", lang, key)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("%s.json: %q is empty", lang, key)
		}
		out[key] = v
	}
	return out
}

// TestCatalogues: both languages have the same keys, and every key the JavaScript uses is
// in both.
func TestCatalogues(t *testing.T) {
	en, nl := catalogue(t, "en"), catalogue(t, "nl")
	for k := range en {
		if _, ok := nl[k]; !ok {
			t.Errorf("%q is in en.json, not in nl.json", k)
		}
	}
	for k := range nl {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in nl.json, not in en.json", k)
		}
	}
	used := map[string][]string{}
	err := fs.WalkDir(web, "web/js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(web, p)
		if err != nil {
			return err
		}
		for _, m := range keyUse.FindAllStringSubmatch(comment.ReplaceAllString(string(b), ""), -1) {
			k := m[1] + m[2]
			used[k] = append(used[k], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 10 {
		t.Fatalf("found only %d keys in the JavaScript: the pattern no longer matches how keys are written", len(used))
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for lang, cat := range map[string]map[string]string{"en": en, "nl": nl} {
			if strings.HasSuffix(k, ".") {
				if !slices.ContainsFunc(mapKeys(cat), func(c string) bool { return strings.HasPrefix(c, k) }) {
					t.Errorf("no key starting %q in %s.json (used in %v)", k, lang, used[k])
				}
				continue
			}
			if _, ok := cat[k]; !ok {
				t.Errorf("%q is not in %s.json (used in %v)", k, lang, used[k])
			}
		}
	}
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
