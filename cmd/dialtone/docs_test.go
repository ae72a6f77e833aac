package main

import (
	"os"
	"strings"
	"testing"
)

// TestOperationsDocListsEveryFlag: docs/operations.md's flag table names every option of
// serve (its flag and its DIALTONE_* variable), from the same option table the flags are
// made from, and no flag serve does not have.
func TestOperationsDocListsEveryFlag(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var c Config
	known := map[string]bool{"config": true}
	for _, o := range c.options() {
		known[o.name] = true
		if !strings.Contains(doc, "`--"+o.name+"`") {
			t.Errorf("docs/operations.md does not list `--%s` (%s)", o.name, o.usage)
		}
		if !strings.Contains(doc, "`"+o.env+"`") {
			t.Errorf("docs/operations.md does not name `%s` for --%s", o.env, o.name)
		}
	}
	// Rows of the serve table name flags that exist.
	start, end := strings.Index(doc, "<!-- serve flags -->"), strings.Index(doc, "<!-- /serve flags -->")
	if start < 0 || end < start {
		t.Fatal("docs/operations.md has no <!-- serve flags --> … <!-- /serve flags --> table")
	}
	for _, line := range strings.Split(doc[start:end], "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "| `--"); ok {
			name, _, _ = strings.Cut(name, "`")
			if !known[name] {
				t.Errorf("docs/operations.md lists `--%s`, which serve does not have", name)
			}
		}
	}
}
