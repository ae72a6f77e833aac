package docs

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/admin"
	"github.com/dialtone/dialtone/store"
)

// root is the repository, seen from this package's directory.
const root = ".."

// repoFiles lists the repository's files (slash paths from the root) whose name
// satisfies keep, skipping .git and other hidden directories.
func repoFiles(t *testing.T, keep func(name string) bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if keep(d.Name()) {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(rel string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// lineOf is the 1-based line of byte offset i in s.
func lineOf(s string, i int) int { return strings.Count(s[:i], "\n") + 1 }

// docsRef finds a path under docs/ that is not part of a longer path (an import path
// such as …/dialtone/docs is not one).
var docsRef = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_./-]*[A-Za-z0-9_/])`)

// TestDocsReferencesExist: every docs/… path in a Go file, README.md, the Makefile,
// a script or a document names a file or directory of the repository.
func TestDocsReferencesExist(t *testing.T) {
	t.Parallel()
	files := repoFiles(t, func(n string) bool {
		return strings.HasSuffix(n, ".go") || strings.HasSuffix(n, ".md") || strings.HasSuffix(n, ".sh") || n == "Makefile"
	})
	checked := 0
	for _, f := range files {
		text := read(t, f)
		for _, m := range docsRef.FindAllStringSubmatchIndex(text, -1) {
			ref := strings.TrimRight(text[m[2]:m[3]], "./")
			checked++
			if !exists(ref) {
				t.Errorf("%s:%d names %s, which is not in the repository", f, lineOf(text, m[2]), ref)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no docs/ reference found at all: the pattern is broken")
	}
}

// mdRef is a *.md file name as code cites it.
var mdRef = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)

// TestGoCitesOnlyRepositoryDocs: a *.md a Go file names is one the repository has
// (at the root, beside the Go file, under docs/, or by its path).
func TestGoCitesOnlyRepositoryDocs(t *testing.T) {
	t.Parallel()
	for _, f := range repoFiles(t, func(n string) bool { return strings.HasSuffix(n, ".go") }) {
		text := read(t, f)
		for _, m := range mdRef.FindAllStringIndex(text, -1) {
			ref := text[m[0]:m[1]]
			if strings.Contains(ref, "/") {
				if !exists(ref) && !exists(path.Join(path.Dir(f), ref)) {
					t.Errorf("%s:%d cites %s, which is not in the repository", f, lineOf(text, m[0]), ref)
				}
				continue
			}
			if !exists(ref) && !exists(path.Join(path.Dir(f), ref)) && !exists("docs/"+ref) {
				t.Errorf("%s:%d cites %s, which is not in the repository (point it at a docs/*.md file)", f, lineOf(text, m[0]), ref)
			}
		}
	}
}

// mdLink is a Markdown link's target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestMarkdownLinksResolve: relative links in README.md and the documents reach a file.
func TestMarkdownLinksResolve(t *testing.T) {
	t.Parallel()
	for _, f := range repoFiles(t, func(n string) bool { return strings.HasSuffix(n, ".md") }) {
		text := read(t, f)
		for _, m := range mdLink.FindAllStringSubmatchIndex(text, -1) {
			target := text[m[2]:m[3]]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(target, "#")
			file := path.Join(path.Dir(f), target)
			if target == "" {
				file = f
			}
			if !exists(file) {
				t.Errorf("%s:%d links to %s, which does not exist", f, lineOf(text, m[2]), target)
				continue
			}
			if anchor != "" && strings.HasSuffix(file, ".md") && !slices.Contains(anchors(read(t, file)), anchor) {
				t.Errorf("%s:%d links to %s#%s, which has no such heading", f, lineOf(text, m[2]), file, anchor)
			}
		}
	}
}

// anchors are the heading anchors of a Markdown text, as GitHub makes them: lower case,
// punctuation dropped, spaces as hyphens.
func anchors(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		h, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		h = strings.TrimSpace(strings.TrimLeft(h, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestOpenAPIListsEveryRoute: the served OpenAPI document describes each route of the
// router's table, and describes no route the router lacks.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(admin.OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("the OpenAPI document is no JSON: %v", err)
	}
	routes := admin.Routes()
	if len(routes) < 10 {
		t.Fatalf("admin.Routes lists %d routes: the table is not being read", len(routes))
	}
	have := map[string]bool{}
	for _, r := range routes {
		have[r] = true
		method, pattern, _ := strings.Cut(r, " ")
		op, ok := doc.Paths[pattern][strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s is not in the OpenAPI document (admin/openapi.go)", r)
			continue
		}
		for _, seg := range strings.Split(pattern, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				name = strings.TrimSuffix(name, "}")
				if !slices.ContainsFunc(op.Parameters, func(p struct {
					Name string `json:"name"`
					In   string `json:"in"`
				}) bool {
					return p.Name == name && p.In == "path"
				}) {
					t.Errorf("%s: path parameter %s is not documented", r, name)
				}
			}
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if r := strings.ToUpper(m) + " " + p; !have[r] {
				t.Errorf("the OpenAPI document describes %s, which the router does not have", r)
			}
		}
	}
}

// moduleImports reads, for every package directory of the module, the module's packages
// its non-test Go files import (build tags ignored: the union of all files).
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	mod := ""
	for _, line := range strings.Split(read(t, "go.mod"), "\n") {
		if m, ok := strings.CutPrefix(line, "module "); ok {
			mod = strings.TrimSpace(m)
		}
	}
	if mod == "" {
		t.Fatal("go.mod names no module")
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range repoFiles(t, func(n string) bool { return strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") }) {
		if strings.Contains("/"+f, "/testdata/") {
			continue
		}
		pkg := path.Dir(f)
		file, err := parser.ParseFile(fset, filepath.Join(root, f), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = []string{}
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rel, ok := strings.CutPrefix(p, mod+"/"); ok && !slices.Contains(out[pkg], rel) {
				out[pkg] = append(out[pkg], rel)
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// graphRow is one row of architecture.md's import table: | `pkg` | `a`, `b` |.
var graphRow = regexp.MustCompile("^\\| `([^`]+)` \\| (.*) \\|$")

// TestArchitectureImportGraph: architecture.md's import table is the module's.
func TestArchitectureImportGraph(t *testing.T) {
	t.Parallel()
	want := moduleImports(t)
	text := read(t, "docs/architecture.md")
	start := strings.Index(text, "<!-- imports -->")
	end := strings.Index(text, "<!-- /imports -->")
	if start < 0 || end < start {
		t.Fatal("architecture.md has no <!-- imports --> … <!-- /imports --> table")
	}
	got := map[string][]string{}
	for _, line := range strings.Split(text[start:end], "\n") {
		m := graphRow.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		deps := []string{}
		for _, d := range strings.Split(m[2], ",") {
			if d = strings.Trim(strings.TrimSpace(d), "`"); d != "" && d != "—" {
				deps = append(deps, d)
			}
		}
		sort.Strings(deps)
		got[m[1]] = deps
	}
	for pkg, deps := range want {
		g, ok := got[pkg]
		switch {
		case !ok:
			t.Errorf("architecture.md: package %s is missing; its row: %s", pkg, row(pkg, deps))
		case !slices.Equal(g, deps):
			t.Errorf("architecture.md: %s imports %v, the table says %v; the row: %s", pkg, deps, g, row(pkg, deps))
		}
	}
	for pkg := range got {
		if _, ok := want[pkg]; !ok {
			t.Errorf("architecture.md lists package %s, which has no Go files", pkg)
		}
	}
}

func row(pkg string, deps []string) string {
	if len(deps) == 0 {
		return "| `" + pkg + "` | — |"
	}
	return "| `" + pkg + "` | `" + strings.Join(deps, "`, `") + "` |"
}

// TestRolesTable: roles.md's permission table is store's, role by role, in store's order.
func TestRolesTable(t *testing.T) {
	t.Parallel()
	text := read(t, "docs/roles.md")
	start := strings.Index(text, "<!-- permissions -->")
	end := strings.Index(text, "<!-- /permissions -->")
	if start < 0 || end < start {
		t.Fatal("roles.md has no <!-- permissions --> … <!-- /permissions --> table")
	}
	var header []string
	var order []store.Permission
	for _, line := range strings.Split(text[start:end], "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|-") || strings.HasPrefix(line, "| -") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		if header == nil {
			header = cells
			for _, r := range header[1:] {
				if !store.Role(r).Valid() {
					t.Fatalf("roles.md: %q in the table's header is no role", r)
				}
			}
			if len(header)-1 != len(store.Roles) {
				t.Errorf("roles.md: the table has %d roles, store has %d", len(header)-1, len(store.Roles))
			}
			continue
		}
		p := store.Permission(cells[0])
		if !p.Valid() {
			t.Errorf("roles.md: %q is no permission", cells[0])
			continue
		}
		order = append(order, p)
		for i, c := range cells[1:] {
			if i+1 >= len(header) {
				break
			}
			role := store.Role(header[i+1])
			if doc, code := c != "", role.HasPermission(p); doc != code {
				t.Errorf("roles.md: %s for %s is %q, store says %v", p, role, c, code)
			}
		}
	}
	if !slices.Equal(order, store.Permissions) {
		t.Errorf("roles.md lists permissions %v, store.Permissions is %v", order, store.Permissions)
	}
}
