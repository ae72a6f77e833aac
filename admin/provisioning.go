package admin

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// Provisioning is what the admin API needs from package provision (issue 3): firmware
// files on disk, template checks and the model table. cmd/dialtone wires an adapter
// over *provision.Provisioner and the package's functions. Nil: the firmware, model and
// template routes answer 503 and raw setting keys get only the generic checks.
type Provisioning interface {
	// AddFirmware writes the file under the data directory (SHA-256 and size computed
	// while copying) and records it; DeleteFirmware removes both, refusing with
	// store.ErrConflict while a model targets the file.
	AddFirmware(f store.Firmware, body io.Reader) (store.Firmware, error)
	DeleteFirmware(slug, name string) error
	// CheckTemplate parses a template and renders a sample phone with it; the error
	// names the line ("template: NAME:LINE: …").
	CheckTemplate(name string, body []byte) error
	// DropTemplates makes the next render read the override directory again.
	DropTemplates()
	// ValidSettingKey says whether a raw setting key is safe to write into a file.
	ValidSettingKey(key string) bool
	// Templates lists the embedded template file names; EmbeddedTemplate reads one.
	Templates() []string
	EmbeddedTemplate(name string) ([]byte, bool)
	// PhoneModels is the model table (templates/models.csv).
	PhoneModels() []store.PhoneModel
}

func (a *API) provisioning() (Provisioning, error) {
	if a.cfg.Provisioning == nil {
		return nil, unavailable("provisioning")
	}
	return a.cfg.Provisioning, nil
}

// lookupModel resolves a model name in any case to its make and canonical name (model
// names are unique across makes in the table).
func lookupModel(p Provisioning, name string) (store.PhoneModel, bool) {
	for _, m := range p.PhoneModels() {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return store.PhoneModel{}, false
}

// checkPhoneModel resolves a phone's model against the model table (GET …/models):
// the canonical name and its make, or 422 naming the field model and the closest known
// models. Without a provisioning service no table is known and the name is kept as is.
func (a *API) checkPhoneModel(name string) (string, string, error) {
	p := a.cfg.Provisioning
	if p == nil || name == "" {
		return name, "", nil
	}
	m, closest, ok := store.ResolveModel(p.PhoneModels(), name)
	if !ok {
		return "", "", &Problem{Status: 422, Code: "unknown_model", Field: "model",
			Message: fmt.Sprintf("%s is not a phone model Dialtone knows (GET …/models lists them); closest: %s",
				strconv.Quote(name), strings.Join(closest, ", ")),
			Details: map[string]any{"closest": closest}}
	}
	return m.Name, m.Make, nil
}

func knownMake(p Provisioning, mk string) bool {
	return slices.ContainsFunc(p.PhoneModels(), func(m store.PhoneModel) bool { return m.Make == mk })
}

// checkSettingKeys refuses raw setting keys that could break out of their line or
// element in a rendered file (provision.Provisioner.ValidSettingKey), naming the field.
func (a *API) checkSettingKeys(field string, m map[string]string) error {
	p := a.cfg.Provisioning
	if p == nil {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !p.ValidSettingKey(k) {
			return badRequest(field, fmt.Sprintf("setting key %s is not allowed: a key is letters, digits, '.', '_' and '-' (optionally ending in [n]), starting with a letter", strconv.Quote(k)))
		}
	}
	return nil
}

// checkTenantSettingKeys checks the tenant's raw settings, by make then key.
func (a *API) checkTenantSettingKeys(m map[string]map[string]string) error {
	p := a.cfg.Provisioning
	if p == nil {
		return nil
	}
	for _, mk := range slices.Sorted(maps.Keys(m)) {
		if !knownMake(p, mk) {
			return badRequest("settings."+mk, "not a phone make Dialtone provisions (yealink, poly, snom, cisco, grandstream, fanvil)")
		}
		if err := a.checkSettingKeys("settings."+mk, m[mk]); err != nil {
			return err
		}
	}
	return nil
}

// modelView is a tenant's profile for one model.
type modelView struct {
	Make     string            `json:"make"`
	Model    string            `json:"model"`
	Firmware string            `json:"firmware"`
	Settings map[string]string `json:"settings"`
	// SIPDigest overrides the tenant's sip_digest for this model ("" keeps it).
	SIPDigest string `json:"sip_digest"`
	// Stage is the firmware staged for some phones first (firmwarestage.go), if any;
	// PreviousFirmware what rollback goes back to.
	Stage            *stageView `json:"stage,omitempty"`
	PreviousFirmware string     `json:"previous_firmware,omitempty"`
}

type stageView struct {
	Firmware string   `json:"firmware"`
	MACs     []string `json:"macs,omitempty"`
	Percent  int      `json:"percent,omitempty"`
}

func newModelView(m store.PhoneModel, mp store.ModelProfile) modelView {
	v := modelView{Make: m.Make, Model: m.Name, Firmware: mp.Firmware, Settings: mp.Settings, SIPDigest: mp.SIPDigest,
		PreviousFirmware: mp.PreviousFirmware}
	if mp.StageFirmware != "" {
		v.Stage = &stageView{Firmware: mp.StageFirmware, MACs: mp.StageMACs, Percent: mp.StagePercent}
	}
	if v.Settings == nil {
		v.Settings = map[string]string{}
	}
	return v
}

// listModels: GET …/models, every model of the table with the tenant's profile of it
// (phones.manage).
func (a *API) listModels(r *request) (any, error) {
	sc, p, err := r.phonesAdmin()
	if err != nil {
		return nil, err
	}
	out := []modelView{}
	err = a.view(func(tx *store.Tx) error {
		for _, m := range p.PhoneModels() {
			mp, err := tx.ModelProfile(sc.tenant, m.Make, m.Name)
			if err != nil && !isNotFound(err) {
				return err
			}
			out = append(out, newModelView(m, mp))
		}
		return nil
	})
	return page[modelView]{Items: out}, err
}

// phoneModel resolves {model} (any case) for a phones admin.
func (r *request) phoneModel() (*scope, store.PhoneModel, error) {
	sc, p, err := r.phonesAdmin()
	if err != nil {
		return nil, store.PhoneModel{}, err
	}
	m, ok := lookupModel(p, r.param("model"))
	if !ok {
		return nil, store.PhoneModel{}, notFound("no such phone model")
	}
	return sc, m, nil
}

// getModel: GET …/models/{model} (phones.manage).
func (a *API) getModel(r *request) (any, error) {
	sc, m, err := r.phoneModel()
	if err != nil {
		return nil, err
	}
	var mp store.ModelProfile
	err = a.view(func(tx *store.Tx) error {
		var err error
		if mp, err = tx.ModelProfile(sc.tenant, m.Make, m.Name); isNotFound(err) {
			err = nil
		}
		return err
	})
	return newModelView(m, mp), err
}

type modelBody struct {
	Firmware  string            `json:"firmware"`
	Settings  map[string]string `json:"settings"`
	SIPDigest string            `json:"sip_digest"`
}

// putModel: PUT …/models/{model} {"firmware","settings","sip_digest"} (phones.manage):
// the target firmware ("" none), raw settings and digest override ("" the tenant's) of
// the model, all replaced.
func (a *API) putModel(r *request) (any, error) {
	sc, m, err := r.phoneModel()
	if err != nil {
		return nil, err
	}
	var in modelBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := checkPhoneSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := a.checkSettingKeys("settings", in.Settings); err != nil {
		return nil, err
	}
	var v modelView
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.ModelProfile(sc.tenant, m.Make, m.Name)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err := firmwareForModel(tx, sc.tenant, m, "firmware", in.Firmware); err != nil {
			return err
		}
		// A stage in progress stays; a new target keeps the old one for rollback.
		next := prev
		next.Tenant, next.Make, next.Model = sc.tenant, m.Make, m.Name
		next.Firmware, next.Settings, next.SIPDigest = in.Firmware, in.Settings, in.SIPDigest
		if prev.Firmware != in.Firmware {
			next.PreviousFirmware = prev.Firmware
		}
		if err := tx.SaveModelProfile(next); err != nil {
			return err
		}
		if next, err = tx.ModelProfile(sc.tenant, m.Make, m.Name); err != nil { // as the store normalised it
			return err
		}
		v = newModelView(m, next)
		var before any
		if prev.Make != "" {
			before = newModelView(m, prev)
		}
		return r.audit(tx, sc.tenant, "model.update", "model/"+m.Make+"/"+m.Name, "", before, v)
	})
	return v, err
}

// firmwareForModel checks that name ("" none) is a firmware file of the tenant that may
// go to model m (uploaded for it, or for no model).
func firmwareForModel(tx *store.Tx, tenant string, m store.PhoneModel, field, name string) error {
	if name == "" {
		return nil
	}
	fw, err := tx.Firmware(tenant, name)
	if isNotFound(err) {
		return badRequest(field, "no such firmware file "+strconv.Quote(name)+" (upload it first)")
	} else if err != nil {
		return err
	}
	if fw.Model != "" && !strings.EqualFold(fw.Model, m.Name) {
		return badRequest(field, "firmware "+fw.Name+" was uploaded for model "+fw.Model+", not "+m.Name)
	}
	return nil
}

// phonesAdmin is the scope of a phones.manage holder and the provisioning service.
func (r *request) phonesAdmin() (*scope, Provisioning, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, nil, err
	}
	if err := sc.need(store.PermPhonesManage); err != nil {
		return nil, nil, err
	}
	p, err := r.api.provisioning()
	return sc, p, err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// provisioningLog: GET …/provisioning-log?limit&cursor (reports.read): every file
// served or refused, newest first; the cursor is the seq of the last item of a page.
func (a *API) provisioningLog(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermReportsRead)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	var before int64
	if cursor != "" {
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before <= 0 {
			return nil, badRequest("cursor", "not a cursor from a previous page")
		}
	}
	mac := ""
	if s := string(r.ctx.QueryArgs().Peek("mac")); s != "" {
		var ok bool
		if mac, ok = store.NormalizeMAC(s); !ok {
			return nil, badRequest("mac", "not a MAC address")
		}
	}
	var out []store.ProvisionLogEntry
	err = a.view(func(tx *store.Tx) (err error) {
		if mac == "" {
			out, err = tx.ProvisionLog(sc.tenant, before, limit+1)
			return err
		}
		// One phone's fetches: the log is bounded, so filter the whole of it.
		all, err := tx.ProvisionLog(sc.tenant, before, 0)
		for _, e := range all {
			if e.MAC == mac {
				if out = append(out, e); len(out) > limit {
					break
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(e store.ProvisionLogEntry) string { return strconv.FormatInt(e.Seq, 10) }), nil
}

// discoveredPhones: GET …/discovered-phones (phones.manage): phones that asked for
// their files with the tenant's token but are not its phones. POST …/phones with the
// MAC assigns one (and takes it off this list).
func (a *API) discoveredPhones(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	var out []store.Discovered
	err = a.view(func(tx *store.Tx) (err error) {
		out, err = tx.DiscoveredPhones(sc.tenant, cursor, limit+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(d store.Discovered) string { return d.MAC }), nil
}

// dismissDiscovered: DELETE …/discovered-phones/{mac} (phones.manage).
func (a *API) dismissDiscovered(r *request) (any, error) {
	sc, mac, err := r.phoneRoute(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		d, err := tx.DiscoveredPhone(sc.tenant, mac)
		if err != nil {
			return err
		}
		if err := tx.DeleteDiscovered(sc.tenant, mac); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "discovered.dismiss", "discovered/"+mac, "", d, nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// adoptDiscovered, inside the transaction that creates phone p, takes the MAC off the
// discovered list and fills make and model from what the phone told us.
func adoptDiscovered(tx *store.Tx, p *store.Phone) error {
	mac, ok := store.NormalizeMAC(p.MAC)
	if !ok {
		return nil // CreatePhone answers the bad MAC
	}
	d, err := tx.DiscoveredPhone(p.Tenant, mac)
	if err != nil {
		return nil
	}
	if p.Model == "" {
		p.Make, p.Model = d.Make, d.Model
	}
	return tx.DeleteDiscovered(p.Tenant, mac)
}
