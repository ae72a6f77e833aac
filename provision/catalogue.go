package provision

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Make is a phone manufacturer, in the lower-case form used in template names.
type Make string

// The makes Dialtone provisions.
const (
	Yealink     Make = "yealink"
	Poly        Make = "poly"
	Snom        Make = "snom"
	Cisco       Make = "cisco"
	Grandstream Make = "grandstream"
	Fanvil      Make = "fanvil"
)

// Makes lists every supported make.
var Makes = []Make{Yealink, Poly, Snom, Cisco, Grandstream, Fanvil}

// ParseMake accepts a make's name in any case ("Yealink", "polycom" → Poly).
func ParseMake(s string) (Make, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yealink":
		return Yealink, true
	case "poly", "polycom":
		return Poly, true
	case "snom":
		return Snom, true
	case "cisco":
		return Cisco, true
	case "grandstream":
		return Grandstream, true
	case "fanvil":
		return Fanvil, true
	}
	return "", false
}

// Model is one row of templates/models.csv.
type Model struct {
	Make       Make
	Name       string // canonical model name, e.g. T46U, VVX450, D785, 8841, GRP2614, X4U
	CommonFile string // the model's common file name as asked, or ""
	Family     string
	// Where the model's programmable keys are (columns 5 to 8; 0 when the row leaves
	// them out): Keys beside the screen with their pages, line keys first; FixedKeys
	// of them the make treats as line keys; SideKeys on a second screen; ExtKeys on
	// the extension modules the model takes. Grandstream's virtual, fixed, physical
	// and extension-board multi-purpose keys (keys.go). PageKeys (column 9) is how many
	// keys one page of a paged key screen holds: Fanvil's function-key pages, whose
	// line keys beside the screen are FixedKeys (keys.go, FanvilKeys).
	Keys, FixedKeys, SideKeys, ExtKeys, PageKeys int
}

// Catalogue is the model table: which models exist and which common file names
// belong to which model. It is data (templates/models.csv), so adding a model
// is a row, not code.
type Catalogue struct {
	models  map[string]Model // key: make + "/" + upper(name)
	byFile  map[string]Model // common file name → model
	ordered []Model
}

// LoadCatalogue reads models.csv from fsys.
func LoadCatalogue(fsys fs.FS) (*Catalogue, error) {
	b, err := fs.ReadFile(fsys, "models.csv")
	if err != nil {
		return nil, fmt.Errorf("model table: %w", err)
	}
	return ParseCatalogue(b)
}

// ParseCatalogue parses the model table:
// make,model,common_file,family[,keys,fixed_keys,side_keys,ext_keys,page_keys]; lines starting
// with # are comments.
func ParseCatalogue(b []byte) (*Catalogue, error) {
	c := &Catalogue{models: map[string]Model{}, byFile: map[string]Model{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Split(t, ",")
		if len(f) < 2 {
			return nil, fmt.Errorf("models.csv line %d: want make,model,common_file,family", line)
		}
		mk, ok := ParseMake(f[0])
		if !ok {
			return nil, fmt.Errorf("models.csv line %d: unknown make %q", line, f[0])
		}
		m := Model{Make: mk, Name: strings.TrimSpace(f[1])}
		if !safeToken(m.Name, 32) {
			return nil, fmt.Errorf("models.csv line %d: bad model name %q", line, f[1])
		}
		if len(f) > 2 {
			m.CommonFile = strings.TrimSpace(f[2])
		}
		if len(f) > 3 {
			m.Family = strings.TrimSpace(f[3])
		}
		for i, n := range []*int{&m.Keys, &m.FixedKeys, &m.SideKeys, &m.ExtKeys, &m.PageKeys} {
			if len(f) <= 4+i || strings.TrimSpace(f[4+i]) == "" {
				continue
			}
			v, err := strconv.Atoi(strings.TrimSpace(f[4+i]))
			if err != nil || v < 0 || v > maxModelKeys {
				return nil, fmt.Errorf("models.csv line %d: %s %q: want a count from 0 to %d", line, keyColumns[i], f[4+i], maxModelKeys)
			}
			*n = v
		}
		if m.FixedKeys > m.Keys {
			return nil, fmt.Errorf("models.csv line %d: fixed_keys %d is more than keys %d", line, m.FixedKeys, m.Keys)
		}
		key := string(mk) + "/" + strings.ToUpper(m.Name)
		if _, dup := c.models[key]; dup {
			return nil, fmt.Errorf("models.csv line %d: model %s %s listed twice", line, mk, m.Name)
		}
		if m.CommonFile != "" {
			if !safeFileName(m.CommonFile) {
				return nil, fmt.Errorf("models.csv line %d: bad file name %q", line, m.CommonFile)
			}
			if _, dup := c.byFile[m.CommonFile]; dup {
				return nil, fmt.Errorf("models.csv line %d: common file %s listed twice", line, m.CommonFile)
			}
			c.byFile[m.CommonFile] = m
		}
		c.models[key] = m
		c.ordered = append(c.ordered, m)
	}
	return c, sc.Err()
}

// keyColumns names the key-count columns of models.csv, in order.
var keyColumns = []string{"keys", "fixed_keys", "side_keys", "ext_keys", "page_keys"}

// maxModelKeys bounds a key count in the model table (a phone with four 40-key
// modules has 160 on them).
const maxModelKeys = 256

// Lookup finds a model by make and name (case-insensitive).
func (c *Catalogue) Lookup(mk Make, name string) (Model, bool) {
	m, ok := c.models[string(mk)+"/"+strings.ToUpper(name)]
	return m, ok
}

// Models lists every model in table order.
func (c *Catalogue) Models() []Model { return append([]Model(nil), c.ordered...) }

// CommonFileOf returns the model that owns a common file name.
func (c *Catalogue) CommonFileOf(name string) (Model, bool) {
	m, ok := c.byFile[name]
	return m, ok
}

// nameChars marks the bytes allowed in tokens (1) and, with the dot, file names (2).
var nameChars = func() (t [256]uint8) {
	for c := range 256 {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			t[c] = 1 | 2
		}
	}
	t['.'] = 2
	return t
}()

// safeToken: 1..max characters of [A-Za-z0-9_-].
func safeToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if nameChars[s[i]]&1 == 0 {
			return false
		}
	}
	return true
}

// safeFileName: 1..96 characters of [A-Za-z0-9_.-], not starting with a dot.
func safeFileName(s string) bool {
	if len(s) == 0 || len(s) > 96 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if nameChars[s[i]]&2 == 0 {
			return false
		}
	}
	return !strings.Contains(s, "..")
}
