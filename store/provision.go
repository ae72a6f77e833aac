package store

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"
)

// Records the provisioning service (package provision) keeps:
//
//	t/{slug}/discovered/{mac}          Discovered   phones that fetched a file but are not assigned
//	t/{slug}/model/{make}/{model}      ModelProfile raw settings, target firmware, sip_digest per model
//	t/{slug}/firmware/{name}           Firmware     uploaded firmware files (bytes on disk under
//	                                                {data}/firmware/{slug}/{name})
//	t/{slug}/provlog/{slot}            ProvisionLogEntry, a ring of ProvisionLogSize slots
//	t/{slug}/provlogseq                next sequence number of the ring

// Discovered is a phone that asked for its files with the tenant's token but is not one
// of the tenant's phones: listed so an admin can assign it. It never got secrets.
type Discovered struct {
	Tenant    string    `json:"tenant"`
	MAC       string    `json:"mac"`
	Make      string    `json:"make,omitempty"`
	Model     string    `json:"model,omitempty"`
	Firmware  string    `json:"firmware,omitempty"` // what the phone runs, from its User-Agent
	Addr      string    `json:"addr,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// PhoneModel is one row of the model table: make in lower case, canonical model name.
type PhoneModel struct{ Make, Name string }

// ModelProfile holds what a tenant sets per phone model: raw settings in the make's own
// terms (between the tenant's and the phone's in precedence) and the target firmware.
type ModelProfile struct {
	Tenant   string            `json:"tenant"`
	Make     string            `json:"make"`
	Model    string            `json:"model"`
	Settings map[string]string `json:"settings,omitempty"`
	Firmware string            `json:"firmware,omitempty"` // name of a Firmware of the tenant
	// SIPDigest overrides the tenant's sip_digest for phones of this model ("" keeps
	// the tenant's); the registrar knows the model from the User-Agent.
	SIPDigest string `json:"sip_digest,omitempty"`
	// A staged firmware goes to a chosen set of the model's phones first: those in
	// StageMACs, or StagePercent of them chosen by MAC hash (StagedMAC), while the
	// others keep Firmware. Rollout makes it Firmware; rollback drops the stage, or
	// goes back to PreviousFirmware, the target before the last change.
	StageFirmware    string   `json:"stage_firmware,omitempty"`
	StageMACs        []string `json:"stage_macs,omitempty"`
	StagePercent     int      `json:"stage_percent,omitempty"`
	PreviousFirmware string   `json:"previous_firmware,omitempty"`
}

// MaxStageMACs bounds ModelProfile.StageMACs.
const MaxStageMACs = 1000

// StagedMAC tells whether the phone mac is in the model's stage: listed, or among the
// StagePercent of MACs whose FNV-1a hash mod 100 falls below it (stable: a phone stays
// in or out as the percentage is kept, and a larger percentage keeps the earlier ones).
func (m ModelProfile) StagedMAC(mac string) bool {
	if m.StageFirmware == "" {
		return false
	}
	if slices.Contains(m.StageMACs, mac) {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(mac))
	return int(h.Sum32()%100) < m.StagePercent
}

// FirmwareFor is the firmware the phone mac of this model is pointed at.
func (m ModelProfile) FirmwareFor(mac string) string {
	if m.StagedMAC(mac) {
		return m.StageFirmware
	}
	return m.Firmware
}

// Firmware is an uploaded firmware file; its bytes live on disk.
type Firmware struct {
	Tenant   string    `json:"tenant"`
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	Make     string    `json:"make,omitempty"`
	Model    string    `json:"model,omitempty"`
	Version  string    `json:"version,omitempty"`
	Uploaded time.Time `json:"uploaded"`
}

// ProvisionLogEntry is one file served (or refused) to a phone.
type ProvisionLogEntry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	MAC      string    `json:"mac,omitempty"`
	File     string    `json:"file"`
	Protocol string    `json:"protocol"` // http, https or tftp
	Make     string    `json:"make,omitempty"`
	Model    string    `json:"model,omitempty"`
	Firmware string    `json:"firmware,omitempty"` // what the phone runs, from its User-Agent
	// Image and ImageVersion: the firmware file served, on a firmware fetch.
	Image        string `json:"image,omitempty"`
	ImageVersion string `json:"image_version,omitempty"`
	Addr         string `json:"addr,omitempty"`
	UserAgent    string `json:"user_agent,omitempty"`
	Status       int    `json:"status"` // HTTP status (TFTP mapped alike)
	Bytes        int64  `json:"bytes"`
	// Count > 1: the same fetch repeated within a short window, Time the last one.
	Count int `json:"count,omitempty"`
	// Device is the device-certificate check of a phone's own file under the tenant's
	// device_auth: verified, missing (served under prefer) or refused; Reason says why.
	Device string `json:"device,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ProvisionLogSize bounds each tenant's provisioning log (a ring).
const ProvisionLogSize = 10000

func discoveredKey(slug, mac string) string { return "t/" + slug + "/discovered/" + mac }
func modelKey(slug, mk, model string) string {
	return "t/" + slug + "/model/" + strings.ToLower(mk) + "/" + strings.ToUpper(model)
}
func firmwareKey(slug, name string) string { return "t/" + slug + "/firmware/" + name }
func provlogKey(slug string, slot int64) string {
	return fmt.Sprintf("t/%s/provlog/%05d", slug, slot)
}
func provlogSeqKey(slug string) string { return "t/" + slug + "/provlogseq" }

func init() {
	phoneDeleteHooks = append(phoneDeleteHooks, func(tx *Tx, p Phone) error {
		return tx.del(discoveredKey(p.Tenant, p.MAC))
	})
}

// SaveDiscovered adds or refreshes a discovered phone (FirstSeen kept).
func (tx *Tx) SaveDiscovered(d Discovered) error {
	mac, ok := NormalizeMAC(d.MAC)
	if !ok {
		return invalid("mac", "not a MAC address")
	}
	d.MAC = mac
	var prev Discovered
	err := tx.get(discoveredKey(d.Tenant, mac), &prev)
	switch {
	case err == nil:
		d.FirstSeen = prev.FirstSeen
	case errors.Is(err, ErrNotFound):
		if d.FirstSeen.IsZero() {
			d.FirstSeen = tx.s.now().UTC()
		}
	default:
		return err
	}
	if d.LastSeen.IsZero() {
		d.LastSeen = tx.s.now().UTC()
	}
	if err := tx.put(discoveredKey(d.Tenant, mac), d); err != nil {
		return err
	}
	c := Change{Kind: KindDiscovered, Op: OpPut, Tenant: d.Tenant, ID: mac, New: d}
	if err == nil {
		c.Old = prev
	}
	tx.Emit(c)
	return nil
}

// DeleteDiscovered forgets a discovered phone (it was assigned or dismissed).
func (tx *Tx) DeleteDiscovered(slug, mac string) error {
	var d Discovered
	if err := tx.get(discoveredKey(slug, mac), &d); err != nil {
		return err
	}
	if err := tx.del(discoveredKey(slug, mac)); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindDiscovered, Op: OpDelete, Tenant: slug, ID: mac, Old: d})
	return nil
}

// DiscoveredPhones lists the tenant's discovered phones in MAC order after cursor,
// leaving out any that have since become phones.
func (tx *Tx) DiscoveredPhones(slug, cursor string, limit int) ([]Discovered, error) {
	var out []Discovered
	err := scanValues(tx, "t/"+slug+"/discovered/", cursor, 0, func(d Discovered) bool {
		if ok, _ := tx.exists(phoneKey(d.MAC)); !ok {
			out = append(out, d)
		}
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// CountDiscovered counts the tenant's discovered records (start-up, not per request).
func (tx *Tx) CountDiscovered(slug string) (int, error) {
	n := 0
	err := tx.scan("t/"+slug+"/discovered/", "", true, func(string, *badgerItem) (bool, error) { n++; return true, nil })
	return n, err
}

// TouchPhone records what a phone told us when it fetched a file, without a change
// event: last-seen times must not drop render caches.
func (tx *Tx) TouchPhone(mac string, seen time.Time, addr, userAgent, firmware string) error {
	p, err := tx.Phone(mac)
	if err != nil {
		return err
	}
	p.LastSeen, p.LastAddr, p.UserAgent = seen.UTC(), addr, userAgent
	if firmware != "" {
		p.Firmware = firmware
	}
	return tx.put(phoneKey(p.MAC), p)
}

// SaveModelProfile writes a tenant's settings and target firmware for one model.
func (tx *Tx) SaveModelProfile(m ModelProfile) error {
	if m.Make == "" || m.Model == "" || strings.ContainsAny(m.Make+m.Model, "/\r\n\x00") || len(m.Model) > 64 {
		return invalid("model", "make and model required")
	}
	if err := checkSIPDigest("sip_digest", &m.SIPDigest); err != nil {
		return err
	}
	for field, name := range map[string]string{"firmware": m.Firmware, "stage_firmware": m.StageFirmware} {
		if name == "" {
			continue
		}
		if ok, err := tx.exists(firmwareKey(m.Tenant, name)); err != nil || !ok {
			return errors.Join(err, invalid(field, "no such firmware %q", name))
		}
	}
	if len(m.StageMACs) > MaxStageMACs {
		return invalid("macs", "at most %d MACs in a stage", MaxStageMACs)
	}
	for i, mac := range m.StageMACs {
		n, ok := NormalizeMAC(mac)
		if !ok {
			return invalid("macs", "not a MAC address: %q", mac)
		}
		m.StageMACs[i] = n
	}
	if m.StagePercent < 0 || m.StagePercent > 100 {
		return invalid("percent", "a percentage is 0 to 100")
	}
	if err := tx.put(modelKey(m.Tenant, m.Make, m.Model), m); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindSetting, Op: OpPut, Tenant: m.Tenant, ID: strings.ToLower(m.Make) + "/" + strings.ToUpper(m.Model), New: m})
	return nil
}

// ModelProfile reads the tenant's record for a model (ErrNotFound when none).
func (tx *Tx) ModelProfile(slug, mk, model string) (ModelProfile, error) {
	var m ModelProfile
	err := tx.get(modelKey(slug, mk, model), &m)
	return m, err
}

// ModelProfiles lists a tenant's model records.
func (tx *Tx) ModelProfiles(slug string) ([]ModelProfile, error) {
	var out []ModelProfile
	err := scanValues(tx, "t/"+slug+"/model/", "", 0, func(m ModelProfile) bool { out = append(out, m); return true })
	return out, err
}

// SaveFirmware records an uploaded firmware file (the caller wrote the bytes).
func (tx *Tx) SaveFirmware(f Firmware) error {
	if f.Name == "" || len(f.Name) > 128 || strings.ContainsAny(f.Name, "/\\\r\n\x00") || strings.HasPrefix(f.Name, ".") {
		return invalid("name", "not a firmware file name")
	}
	if f.Uploaded.IsZero() {
		f.Uploaded = tx.s.now().UTC()
	}
	if err := tx.put(firmwareKey(f.Tenant, f.Name), f); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindFirmware, Op: OpPut, Tenant: f.Tenant, ID: f.Name, New: f})
	return nil
}

// Firmware reads one firmware record.
func (tx *Tx) Firmware(slug, name string) (Firmware, error) {
	var f Firmware
	err := tx.get(firmwareKey(slug, name), &f)
	return f, err
}

// Firmwares lists a tenant's firmware files.
func (tx *Tx) Firmwares(slug string) ([]Firmware, error) {
	var out []Firmware
	err := scanValues(tx, "t/"+slug+"/firmware/", "", 0, func(f Firmware) bool { out = append(out, f); return true })
	return out, err
}

// DeleteFirmware removes a firmware record (the caller removes the file).
func (tx *Tx) DeleteFirmware(slug, name string) error {
	f, err := tx.Firmware(slug, name)
	if err != nil {
		return err
	}
	if err := tx.del(firmwareKey(slug, name)); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindFirmware, Op: OpDelete, Tenant: slug, ID: name, Old: f})
	return nil
}

// AppendProvisionLog adds entries to the tenant's ring, overwriting the oldest.
func (tx *Tx) AppendProvisionLog(slug string, entries []ProvisionLogEntry) error {
	var seq int64
	if err := tx.get(provlogSeqKey(slug), &seq); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for _, e := range entries {
		e.Seq = seq
		if err := tx.put(provlogKey(slug, seq%ProvisionLogSize), e); err != nil {
			return err
		}
		seq++
	}
	return tx.put(provlogSeqKey(slug), seq)
}

// ProvisionLog lists the tenant's log newest first; before (a Seq, 0 = newest) pages.
func (tx *Tx) ProvisionLog(slug string, before int64, limit int) ([]ProvisionLogEntry, error) {
	var all []ProvisionLogEntry
	err := scanValues(tx, "t/"+slug+"/provlog/", "", 0, func(e ProvisionLogEntry) bool {
		if before <= 0 || e.Seq < before {
			all = append(all, e)
		}
		return true
	})
	sort.Slice(all, func(i, j int) bool { return all[i].Seq > all[j].Seq })
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, err
}

// DiscoveredPhone reads one discovered record.
func (tx *Tx) DiscoveredPhone(slug, mac string) (Discovered, error) {
	var d Discovered
	err := tx.get(discoveredKey(slug, mac), &d)
	return d, err
}
