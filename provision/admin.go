package provision

import (
	"io/fs"

	"github.com/dialtone/dialtone/store"
)

// What the admin API asks of provisioning besides firmware (admin.Provisioning): template
// checks and listings, setting-key checks and the model table.

// CheckTemplate parses and sample-renders a template override before it is saved.
func (p *Provisioner) CheckTemplate(name string, body []byte) error { return CheckTemplate(name, body) }

// ValidSettingKey says whether a raw setting key is safe to write into any make's file.
func (p *Provisioner) ValidSettingKey(k string) bool { return validKey(k) }

// Templates lists the built-in template file names.
func (p *Provisioner) Templates() []string {
	names, _ := fs.Glob(p.cfg.Templates, "*.tmpl")
	return names
}

// EmbeddedTemplate reads a built-in template (what an override replaces).
func (p *Provisioner) EmbeddedTemplate(name string) ([]byte, bool) {
	b, err := fs.ReadFile(p.cfg.Templates, name)
	return b, err == nil
}

// PhoneModels is the model table (templates/models.csv) in its order.
func (p *Provisioner) PhoneModels() []store.PhoneModel {
	out := make([]store.PhoneModel, 0, len(p.cat.ordered))
	for _, m := range p.cat.ordered {
		out = append(out, store.PhoneModel{Make: string(m.Make), Name: m.Name})
	}
	return out
}
