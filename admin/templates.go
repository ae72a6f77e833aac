package admin

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialtone/dialtone/internal/atomicfile"
	"github.com/dialtone/dialtone/store"
)

// Templates are per installation, not per tenant: an override file under
// {data}/templates/ wins over the embedded template of the same name for every tenant.
// So changing one needs phones.manage in the tenant of the URL AND the System Owner or
// System Admin role in the default tenant (the operators of the server); listing and
// reading them needs phones.manage. Overrides are audited in the default tenant.

// templateView is one template name: embedded (shipped in the binary) and/or
// overridden (a file in the override directory).
type templateView struct {
	Name       string     `json:"name"`
	Embedded   bool       `json:"embedded"`
	Overridden bool       `json:"overridden"`
	Size       int64      `json:"size,omitempty"`
	Modified   *time.Time `json:"modified,omitempty"`
}

var templateNameRE = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)?-[a-z]+\.tmpl$`)

// knownTemplate says whether name is a template provision may look up: an embedded
// one, or a model's own {make}-{model}-{kind}.tmpl beside an embedded
// {make}-{kind}.tmpl (provision.TemplateNames).
func knownTemplate(p Provisioning, name string) (embedded, ok bool) {
	if !templateNameRE.MatchString(name) {
		return false, false
	}
	names := p.Templates()
	if slices.Contains(names, name) {
		return true, true
	}
	parts := strings.Split(strings.TrimSuffix(name, ".tmpl"), "-")
	if len(parts) != 3 || !slices.Contains(names, parts[0]+"-"+parts[2]+".tmpl") {
		return false, false
	}
	for _, m := range p.PhoneModels() {
		if m.Make == parts[0] && strings.ToLower(m.Name) == parts[1] {
			return false, true
		}
	}
	return false, false
}

// templateAdmin checks who may change templates (see above) and returns the override
// directory.
func (r *request) templateAdmin() (Provisioning, string, error) {
	_, p, err := r.phonesAdmin()
	if err != nil {
		return nil, "", err
	}
	c := r.caller
	home, ok := c.scopeIn(store.DefaultTenant)
	operator := ok && c.user.Tenant == store.DefaultTenant && home.wide &&
		(c.user.Role == store.RoleSystemOwner || c.user.Role == store.RoleSystemAdmin)
	if !operator || c.viewAs {
		return nil, "", forbidden("templates are shared by every tenant: changing one needs the system_owner or system_admin role in the default tenant (not in a view-as session)")
	}
	if r.api.cfg.TemplateDir == "" {
		return nil, "", unavailable("the template override directory")
	}
	return p, r.api.cfg.TemplateDir, nil
}

// listTemplates: GET …/templates (phones.manage).
func (a *API) listTemplates(r *request) (any, error) {
	_, p, err := r.phonesAdmin()
	if err != nil {
		return nil, err
	}
	byName := map[string]*templateView{}
	for _, n := range p.Templates() {
		byName[n] = &templateView{Name: n, Embedded: true}
	}
	if dir := a.cfg.TemplateDir; dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			if _, ok := knownTemplate(p, e.Name()); !ok {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			v := byName[e.Name()]
			if v == nil {
				v = &templateView{Name: e.Name()}
				byName[e.Name()] = v
			}
			mod := info.ModTime().UTC()
			v.Overridden, v.Size, v.Modified = true, info.Size(), &mod
		}
	}
	out := make([]templateView, 0, len(byName))
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, *byName[n])
	}
	return page[templateView]{Items: out}, nil
}

// getTemplate: GET …/templates/{name} (phones.manage): the text in use, the override
// when there is one (X-Template-Source: override or embedded).
func (a *API) getTemplate(r *request) (any, error) {
	_, p, err := r.phonesAdmin()
	if err != nil {
		return nil, err
	}
	name := r.param("name")
	if _, ok := knownTemplate(p, name); !ok {
		return nil, notFound("no such template")
	}
	if dir := a.cfg.TemplateDir; dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			r.ctx.Response.Header.Set("X-Template-Source", "override")
			return rawAnswer{contentType: "text/plain; charset=utf-8", body: b}, nil
		}
	}
	b, ok := p.EmbeddedTemplate(name)
	if !ok {
		return nil, notFound("no such template")
	}
	r.ctx.Response.Header.Set("X-Template-Source", "embedded")
	return rawAnswer{contentType: "text/plain; charset=utf-8", body: b}, nil
}

var templateLineRE = regexp.MustCompile(`\.tmpl:(\d+)(?::\d+)?:`)

// putTemplate: PUT …/templates/{name}, body the template text. It is parsed and tried
// on a sample phone first: a fault is a 400 naming its line, and nothing is stored.
func (a *API) putTemplate(r *request) (any, error) {
	p, dir, err := r.templateAdmin()
	if err != nil {
		return nil, err
	}
	name := r.param("name")
	embedded, ok := knownTemplate(p, name)
	if !ok {
		return nil, notFound("no such template: a template is an embedded name (GET …/templates) or {make}-{model}-{kind}.tmpl for a known model")
	}
	body := r.ctx.Request.Body()
	if len(body) == 0 || !utf8.Valid(body) || slices.Contains(body, 0) {
		return nil, badRequest("template", "the body must be the template as UTF-8 text")
	}
	if err := p.CheckTemplate(name, body); err != nil {
		pr := &Problem{Status: 400, Code: "template_error", Field: "template", Message: err.Error()}
		if m := templateLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			pr.Message = "line " + m[1] + ": " + err.Error()
			pr.Details = map[string]any{"line": line}
		}
		return nil, pr
	}
	// Through a temporary file and a rename: a render never reads half a template.
	if err := writeTemplate(dir, name, body); err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		tx.Emit(store.Change{Kind: store.KindTemplate, Op: store.OpPut, ID: name})
		return r.audit(tx, store.DefaultTenant, "template.update", "template/"+name, "", nil,
			map[string]any{"name": name, "bytes": len(body), "embedded": embedded})
	})
	p.DropTemplates() // also on a failed audit: the file is in place
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// deleteTemplate: DELETE …/templates/{name}: back to the embedded template (for a
// model's own file: back to the make's).
func (a *API) deleteTemplate(r *request) (any, error) {
	p, dir, err := r.templateAdmin()
	if err != nil {
		return nil, err
	}
	name := r.param("name")
	if _, ok := knownTemplate(p, name); !ok {
		return nil, notFound("no such template")
	}
	if err := os.Remove(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
		return nil, notFound("template " + name + " is not overridden")
	} else if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		tx.Emit(store.Change{Kind: store.KindTemplate, Op: store.OpDelete, ID: name})
		return r.audit(tx, store.DefaultTenant, "template.reset", "template/"+name, "", nil, nil)
	})
	p.DropTemplates()
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

func writeTemplate(dir, name string, body []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, name), 0o640, body)
}
