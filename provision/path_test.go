package provision

import (
	"strings"
	"testing"
)

func TestSplitPaths(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][3]string{
		"tok/805ec0aabbcc.cfg":   {"tok", "", "805ec0aabbcc.cfg"},
		"tok/fw/a.rom":           {"tok", "", "fw/a.rom"},
		"805ec0aabbcc.cfg":       {"", "default", "805ec0aabbcc.cfg"},
		"fw/a.rom":               {"", "default", "fw/a.rom"},
		"directory/yealink.xml":  {"", "default", "directory/yealink.xml"},
		"tok/directory/snom.xml": {"tok", "", "directory/snom.xml"},
	} {
		tok, slug, path, ok := splitTFTPName(in)
		if !ok || tok != want[0] || slug != want[1] || path != want[2] {
			t.Errorf("%q: %q %q %q %v", in, tok, slug, path, ok)
		}
	}
	for _, bad := range []string{"", "/x.cfg", "tok/../x.cfg", "tok//x.cfg", "tok/a/b/c", "tok/x/y.cfg", "a\\b.cfg", "tok/%2e.cfg", "tok/"} {
		if _, _, _, ok := splitTFTPName(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzSplitTFTPName(f *testing.F) {
	for _, s := range []string{"tok/805ec0aabbcc.cfg", "fw/a.rom", "/etc/passwd", "a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tok, slug, path, ok := splitTFTPName(name)
		if !ok {
			return
		}
		if strings.Contains(path, "..") || strings.HasPrefix(path, "/") || strings.ContainsAny(path, "\\\x00%") ||
			(tok == "") == (slug == "") || strings.Count(path, "/") > 1 {
			t.Fatalf("%q → %q %q %q", name, tok, slug, path)
		}
	})
}

func FuzzParseRRQ(f *testing.F) {
	f.Add([]byte("tok/805ec0aabbcc.cfg\x00octet\x00blksize\x001468\x00tsize\x000\x00"))
	f.Add([]byte("x\x00netascii\x00"))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rq, ok := parseRRQ(b)
		if ok && (rq.file == "" || rq.mode != "octet" && rq.mode != "netascii") {
			t.Fatalf("%q → %+v", b, rq)
		}
	})
}

func TestSplitProvPath(t *testing.T) {
	t.Parallel()
	if tok, rest, ok := splitProvPath("tok/fw/a.rom"); !ok || tok != "tok" || rest != "fw/a.rom" {
		t.Errorf("tok/fw/a.rom: %q %q %v", tok, rest, ok)
	}
	for _, bad := range []string{"", "tok", "tok/", "/x.cfg", "tok/../x.cfg", "tok/..", "tok//x.cfg", "tok/a/b/c", "tok/x/y.cfg",
		"tok/a\\b.cfg", "tok/%2e.cfg", "to%6b/x.cfg", "tok/x.cfg?a", "tok/x.cfg#a", "tok/x\x00.cfg", "tok/.x.cfg", "tok/fw/..", "t:k/x.cfg"} {
		if tok, rest, ok := splitProvPath(bad); ok {
			t.Errorf("%q accepted as %q %q", bad, tok, rest)
		}
	}
}
