package provision

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"text/template"
	"time"
)

// ErrNoTemplate means no template exists for a make and file kind.
var ErrNoTemplate = errors.New("no template")

// Renderer turns Profiles into files with the templates of package templates,
// a file of the same name in the override directory winning over the embedded
// one. Parsed templates are kept until Drop.
type Renderer struct {
	base, over fs.FS

	mu     sync.RWMutex
	parsed map[string]*template.Template // key: make/model/kind → template (nil: none)
}

// maxParsedTemplates bounds the parsed templates kept (several per catalogued model).
const maxParsedTemplates = 1024

// NewRenderer uses base (templates.FS) and overrides (may be nil).
func NewRenderer(base, overrides fs.FS) *Renderer {
	return &Renderer{base: base, over: overrides, parsed: map[string]*template.Template{}}
}

// Drop forgets every parsed template, so an override written since is used by
// the next Render.
func (r *Renderer) Drop() {
	r.mu.Lock()
	r.parsed = map[string]*template.Template{}
	r.mu.Unlock()
}

// TemplateNames lists the file names tried for make, model and kind, most
// specific first: {make}-{model}-{kind}.tmpl, then {make}-{kind}.tmpl.
func TemplateNames(mk Make, model string, kind Kind) []string {
	names := make([]string, 0, 2)
	if model != "" {
		names = append(names, fmt.Sprintf("%s-%s-%s.tmpl", mk, strings.ToLower(model), kind))
	}
	return append(names, fmt.Sprintf("%s-%s.tmpl", mk, kind))
}

func (r *Renderer) lookup(mk Make, model string, kind Kind) (*template.Template, error) {
	key := string(mk) + "/" + model + "/" + string(kind)
	r.mu.RLock()
	t, ok := r.parsed[key]
	r.mu.RUnlock()
	if ok {
		if t == nil {
			return nil, fmt.Errorf("%s %s %s: %w", mk, model, kind, ErrNoTemplate)
		}
		return t, nil
	}
	var body []byte
	var name string
	for _, n := range TemplateNames(mk, model, kind) {
		for _, fsys := range []fs.FS{r.over, r.base} {
			if fsys == nil {
				continue
			}
			b, err := fs.ReadFile(fsys, n)
			if err == nil {
				body, name = b, n
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("template %s: %w", n, err)
			}
		}
		if body != nil {
			break
		}
	}
	if body != nil {
		var err error
		if t, err = parseTemplate(name, body); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	if len(r.parsed) >= maxParsedTemplates {
		// File names carry models (snom{model}.htm): made-up ones must not grow this.
		r.parsed = map[string]*template.Template{}
	}
	r.parsed[key] = t
	r.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("%s %s %s: %w", mk, model, kind, ErrNoTemplate)
	}
	return t, nil
}

// Render produces the file of the given kind for p, or an error; never a
// partly written file.
func (r *Renderer) Render(p *Profile, kind Kind) ([]byte, error) {
	t, err := r.lookup(p.Make, p.Model, kind)
	if err != nil {
		return nil, err
	}
	return execute(t, p)
}

func execute(t *template.Template, p *Profile) ([]byte, error) {
	v, err := newView(p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(4096)
	if err := t.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return buf.Bytes(), nil
}

func parseTemplate(name string, body []byte) (*template.Template, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return t, nil
}

// CheckTemplate refuses a template that does not parse or does not render a
// sample phone, with the line of the fault in the error (text/template reports
// "template: NAME:LINE: …"). Admin upload calls it before storing an override.
func CheckTemplate(name string, body []byte) error {
	if !safeFileName(name) || !strings.HasSuffix(name, ".tmpl") {
		return fmt.Errorf("template name %q: want {make}[-{model}]-{kind}.tmpl", name)
	}
	t, err := parseTemplate(name, body)
	if err != nil {
		return err
	}
	mk, _ := ParseMake(strings.SplitN(name, "-", 2)[0])
	p := SampleProfile(mk)
	if _, err := execute(t, p); err != nil {
		return err
	}
	return nil
}

// SampleProfile is a phone with two lines and every setting filled, used to
// try templates at upload and in tests.
func SampleProfile(mk Make) *Profile {
	if mk == "" {
		mk = Yealink
	}
	return &Profile{
		Make: mk, Model: "", MAC: "805ec0aabbcc", FileName: "805ec0aabbcc.cfg",
		Tenant: "acme", TenantName: "Acme & Co",
		Lines: []Line{
			{Extension: "201", DisplayName: "Anna de Vries", Label: "201", UserName: "201", AuthUser: "acme-201", Password: "s3cret<&>", Domain: "acme.example", Server: "pbx.example", Port: 5060, Transport: "udp", Expires: 300},
			{Extension: "202", DisplayName: "Anna (2)", Label: "202", UserName: "202", AuthUser: "acme-202", Password: "pw2", Domain: "acme.example", Server: "pbx.example", Port: 5061, Transport: "tls", Expires: 300},
		},
		Keys: []Key{
			{Type: "blf", Value: "203", Label: "Bea <&>", Domain: "acme.example"},
			{Type: "speed_dial", Value: "+31201234567", Label: "Desk", Domain: "acme.example"},
		},
		// a few of each kind of key: fixed and dynamic line keys, a second screen's, a
		// module's, pages of three (Fanvil)
		Layout:   KeyLayout{Family: "GRP", Keys: 8, FixedKeys: 4, SideKeys: 2, ExtKeys: 2, PageKeys: 3},
		Language: "nl", TimeZone: "Europe/Amsterdam", NTP: "pool.ntp.org",
		ProvisioningURL: "http://pbx.example:8080/p/TOKEN/", ResyncMinutes: 60,
		Phonebook: Phonebook{LDAPHost: "pbx.example", LDAPPort: 389, BaseDN: "ou=people,o=acme,dc=dialtone",
			BindDN: "cn=phonebook,o=acme,dc=dialtone", BindPassword: "pb-pass", XMLURL: "http://pbx.example:8080/p/TOKEN/directory/" + string(mk) + ".xml"},
		Firmware:      Firmware{URL: "http://pbx.example:8080/p/TOKEN/fw/fw.rom", File: "fw.rom", Version: "1.2.3"},
		AdminPassword: "adm1n",
		CA:            TrustedCA{URL: "http://pbx.example:8080/ca.pem", PEM: sampleCAPEM},
		SRTP:          "optional",
		Settings:      map[string]string{"custom.key": "v"},
		Now:           time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC),
	}
}

// sampleCAPEM stands for the appliance's CA in SampleProfile (not a real certificate:
// templates only copy it).
const sampleCAPEM = "-----BEGIN CERTIFICATE-----\nMIIBdialtoneSampleCA\n-----END CERTIFICATE-----\n"
