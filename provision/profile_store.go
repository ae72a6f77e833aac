package provision

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// sipExpires is the registration interval written into lines.
const sipExpires = 600

// baseProfile is what every file of a tenant carries: no lines and no secrets.
func (p *Provisioner) baseProfile(tx *store.Tx, t store.Tenant, mk Make, model, file string) (*Profile, store.ModelProfile) {
	prov := p.provisioningURL(t)
	pr := &Profile{
		Make: mk, Model: model, FileName: file,
		Tenant: t.Slug, TenantName: t.Name,
		Language: cmp.Or(t.Language, "en"), TimeZone: cmp.Or(t.Timezone, "UTC"), NTP: p.cfg.NTP,
		ProvisioningURL: prov, ResyncMinutes: p.cfg.ResyncMinutes,
		Phonebook: Phonebook{
			LDAPHost: p.cfg.PublicHost, LDAPPort: p.cfg.LDAPPort,
			BaseDN: "ou=people,o=" + t.Slug + ",dc=dialtone",
			BindDN: "cn=phonebook,o=" + t.Slug + ",dc=dialtone",
			XMLURL: prov + "directory/" + string(mk) + ".xml",
		},
		CA:   p.trustedCA(t),
		SRTP: t.SRTPMode(),
		Now:  p.cfg.Now(),
	}
	if t.PhonebookLDAPS && p.cfg.LDAPSPort > 0 {
		pr.Phonebook.LDAPS, pr.Phonebook.LDAPPort = true, p.cfg.LDAPSPort
	}
	if m, ok := p.cat.Lookup(mk, model); ok {
		pr.Layout = KeyLayout{Family: m.Family, Keys: m.Keys, FixedKeys: m.FixedKeys, SideKeys: m.SideKeys, ExtKeys: m.ExtKeys, PageKeys: m.PageKeys}
	}
	var mp store.ModelProfile
	if model != "" {
		mp, _ = tx.ModelProfile(t.Slug, string(mk), model)
		pr.Firmware = firmwareOf(tx, t.Slug, prov, mp.Firmware)
	}
	pr.Settings = MergeSettings(t.Settings[string(mk)], mp.Settings)
	return pr, mp
}

// firmwareOf is the Firmware of the tenant's file name ("" or gone: none).
func firmwareOf(tx *store.Tx, slug, prov, name string) Firmware {
	if name == "" {
		return Firmware{}
	}
	fw, err := tx.Firmware(slug, name)
	if err != nil {
		return Firmware{}
	}
	return Firmware{URL: prov + "fw/" + fw.Name, File: fw.Name, Version: fw.Version}
}

// commonProfile renders files without a MAC: tenant language and time zone,
// settings of tenant and model, never a secret.
func (p *Provisioner) commonProfile(t store.Tenant, mk Make, model, file string) (*Profile, error) {
	var pr *Profile
	err := p.st.View(func(tx *store.Tx) error {
		pr, _ = p.baseProfile(tx, t, mk, model, file)
		return nil
	})
	return pr, err
}

// phoneProfile renders one known phone: its user's extensions as lines (or its
// guest line while a flex phone has nobody logged in), language and time zone
// from user, else department, else tenant, and every secret it needs.
func (p *Provisioner) phoneProfile(t store.Tenant, ph store.Phone, mk Make, model, file string) (*Profile, string, error) {
	var pr *Profile
	var userID string
	err := p.st.View(func(tx *store.Tx) error {
		var mp store.ModelProfile
		pr, mp = p.baseProfile(tx, t, mk, model, file)
		pr.MAC, pr.Flex = ph.MAC, ph.Flex
		if mp.StagedMAC(ph.MAC) {
			// A staged firmware reaches the phone through its own file, read after the
			// common file by every make, so the staged URL wins over the target's.
			pr.Firmware = firmwareOf(tx, t.Slug, pr.ProvisioningURL, mp.StageFirmware)
		}
		pr.Settings = MergeSettings(t.Settings[string(mk)], mp.Settings, ph.Settings)
		var err error
		if pr.AdminPassword, err = p.st.PhoneAdminPassword(t, ph); err != nil {
			return fmt.Errorf("admin password: %w", err)
		}
		if t.ProvisioningAuth == store.ProvisioningDigest {
			pr.ProvisioningUser = ph.MAC
			if pr.ProvisioningPassword, _, err = p.st.ProvisioningPasswords(ph); err != nil {
				return fmt.Errorf("provisioning password: %w", err)
			}
		}
		// the phone's own phonebook URL: served to it alone (fetchPhonebook)
		pr.Phonebook.XMLURL = p.provisioningURL(t) + "directory/" + ph.MAC + "/" + string(mk) + ".xml"
		if pr.Phonebook.BindPassword, err = p.st.PhonebookPassword(t); err != nil {
			return fmt.Errorf("phonebook password: %w", err)
		}
		userID = ph.UserID
		if ph.Flex {
			userID = ""
			if p.cfg.Flex != nil {
				if uid, ok := p.cfg.Flex.FlexUser(t.Slug, ph.MAC); ok {
					userID = uid
				}
			}
		}
		if userID == "" {
			if ph.Flex && ph.GuestUsername != "" {
				pw, err := p.st.GuestPassword(ph)
				if err != nil {
					return fmt.Errorf("guest password: %w", err)
				}
				pr.Guest = true
				pr.Lines = []Line{{Extension: "", DisplayName: "Flex", Label: flexGuestLabel(t.Language), UserName: ph.GuestUsername,
					AuthUser: ph.GuestUsername, Password: pw, Domain: t.SIPDomain, Server: p.cfg.PublicHost,
					Port: p.sipPort(t), Transport: t.Transport(), Expires: sipExpires}}
			}
			return nil
		}
		u, err := tx.User(t.Slug, userID)
		if errors.Is(err, store.ErrNotFound) {
			userID = ""
			return nil // assignment to a deleted user: no lines
		} else if err != nil {
			return err
		}
		var dept store.Department
		if u.DepartmentID != "" {
			dept, _ = tx.Department(t.Slug, u.DepartmentID)
		}
		pr.Language = cmp.Or(u.Language, dept.Language, t.Language, "en")
		pr.TimeZone = cmp.Or(u.Timezone, dept.Timezone, t.Timezone, "UTC")
		for _, num := range u.Extensions {
			e, err := tx.Extension(t.Slug, num)
			if err != nil {
				continue
			}
			pw, err := p.st.SIPPassword(e)
			if err != nil {
				return fmt.Errorf("extension %s: %w", num, err)
			}
			pr.Lines = append(pr.Lines, Line{Extension: num, DisplayName: u.DisplayName(), Label: num,
				UserName: num, AuthUser: e.SIPUsername, Password: pw, Domain: t.SIPDomain,
				Server: p.cfg.PublicHost, Port: p.sipPort(t), Transport: t.Transport(), Expires: sipExpires})
		}
		if len(pr.Lines) > 0 {
			for _, k := range u.Keys {
				pr.Keys = append(pr.Keys, Key{Type: k.Type, Value: k.Value, Label: cmp.Or(k.Label, k.Value), Domain: t.SIPDomain})
			}
		}
		return nil
	})
	return pr, userID, err
}

// flexGuestLabel is the guest line's label on a flex phone nobody is logged in at, in
// the tenant's language ("Flex — log in"; docs/vendors.md, "Flex phones").
func flexGuestLabel(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	base, _, _ = strings.Cut(base, "_")
	switch base {
	case "nl":
		return "Flex — inloggen"
	case "de":
		return "Flex — anmelden"
	case "fr":
		return "Flex — connexion"
	case "es":
		return "Flex — iniciar sesión"
	case "it":
		return "Flex — accedi"
	}
	return "Flex — log in"
}
