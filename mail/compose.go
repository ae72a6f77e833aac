package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"mime/quotedprintable"
	"strings"
	"text/template"
	"time"

	"github.com/dialtone/dialtone/store"
)

// Templates are the built-in mail templates, one file per kind and language:
// {kind}.{lang}.txt. Their first lines are headers (only Subject: is used) up to an empty
// line; the rest is the plain-text body. A file of the same name in the override
// directory ({data}/templates/mail/) wins.
//
//go:embed templates/*.txt
var builtin embed.FS

// Templates gives the built-in templates (for listing and tests).
func Templates() fs.FS {
	sub, _ := fs.Sub(builtin, "templates")
	return sub
}

// linkMarker stands in for the one-time link in a queued body: the link is made when the
// mail is handed to an SMTP server, so no usable token is ever stored.
const linkMarker = "[[dialtone-set-password-link]]"

// linkShown replaces the marker when the outbox is listed.
const linkShown = "[one-time link, made when the mail is sent]"

// welcomeData is what a welcome or reset template sees.
type welcomeData struct {
	FirstName, LastName, Name string
	Login                     string // the email the user logs in with
	Tenant, TenantSlug        string // the tenant's name and slug
	Extensions                []string
	Link                      string
	ValidHours                int
}

var funcs = template.FuncMap{"join": strings.Join}

// chooseLanguage: the user's own language, else their department's, else the tenant's,
// else English.
func chooseLanguage(tx *store.Tx, u store.User, t store.Tenant) string {
	if u.Language != "" {
		return u.Language
	}
	if u.DepartmentID != "" {
		if d, err := tx.Department(u.Tenant, u.DepartmentID); err == nil && d.Language != "" {
			return d.Language
		}
	}
	if t.Language != "" {
		return t.Language
	}
	return "en"
}

// loadTemplate finds {kind}.{lang}.txt in the overrides, then built in, then the same
// for English. A broken override is logged and passed over.
func (m *Mailer) loadTemplate(kind, lang string) (*template.Template, string, error) {
	langs := []string{lang}
	if lang != "en" {
		langs = append(langs, "en")
	}
	for _, l := range langs {
		name := kind + "." + l + ".txt"
		for _, src := range []fs.FS{m.overrides, Templates()} {
			if src == nil {
				continue
			}
			b, err := fs.ReadFile(src, name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err == nil {
				var t *template.Template
				t, err = template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b))
				if err == nil {
					return t, l, nil
				}
			}
			m.log.Warn("mail template not usable, passing over it", "template", name, "err", err)
		}
	}
	return nil, "", fmt.Errorf("no %s mail template", kind)
}

// render runs a template and splits its output into subject and body.
func render(t *template.Template, data any) (subject, body string, err error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", "", fmt.Errorf("template %s: %w", t.Name(), err)
	}
	text := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	head, rest, ok := strings.Cut(text, "\n\n")
	if !ok {
		return "", "", fmt.Errorf("template %s: no empty line after the headers", t.Name())
	}
	for _, line := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "subject") {
			subject = oneLine(v)
		}
	}
	if subject == "" {
		return "", "", fmt.Errorf("template %s: no Subject: header", t.Name())
	}
	return subject, rest, nil
}

// oneLine keeps a header value on one line (no header injection from names).
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// message builds the RFC 5322 message handed to the server: plain text, UTF-8,
// quoted-printable (RFC 2045 §6.7), the subject as an RFC 2047 encoded word when needed.
func (m *Mailer) message(om store.OutMail, body string, now time.Time) []byte {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", m.from)
	h("To", om.To)
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(om.Subject)))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", "<"+om.ID+"."+store.NewID()+"@"+m.domain+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	if om.Language != "" {
		h("Content-Language", om.Language)
	}
	h("Auto-Submitted", "auto-generated") // RFC 3834 §5
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body, "\r\n", "\n")))
	qp.Close()
	return b.Bytes()
}
