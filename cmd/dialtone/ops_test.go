package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// seriesName finds the names of the binary's own series in a PromQL expression.
var seriesName = regexp.MustCompile(`\b(?:dialtone|go|process)_[a-zA-Z0-9_]*`)

// checkDashboard loads docs/ops/grafana-dashboard.json and checks that it is JSON that
// Grafana can import (a title, panels with queries) and that every series a query names
// is in scrape, a /metrics of the running binary.
func checkDashboard(t *testing.T, scrape string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/ops/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		UID    string
		Panels []struct {
			Type    string
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels")
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(scrape, "\n") {
		if name, _, ok := strings.Cut(line, "{"); ok && !strings.HasPrefix(line, "#") && !strings.Contains(name, " ") {
			exported[name] = true
		} else if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			exported[name] = true
		}
	}
	queries := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := seriesName.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no series of the binary", p.Title, tg.Expr)
			}
			for _, n := range names {
				queries++
				if !exported[n] {
					t.Errorf("panel %q: %s is not in /metrics", p.Title, n)
				}
			}
		}
	}
	if queries < 20 {
		t.Errorf("only %d series named in the dashboard", queries)
	}
}
