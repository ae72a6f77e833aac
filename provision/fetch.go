package provision

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net/netip"
	"os"
	"strings"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
)

// fetchRequest is one file request, from HTTP or TFTP.
type fetchRequest struct {
	Token string // from /p/{token}/ or TFTP {token}/…; "" means Slug
	Slug  string // TFTP bare names: "default"
	Path  string // below the token: {file}, fw/{file}, directory/{vendor}.xml
	UA    string
	Addr  netip.Addr
	Proto string // http, https or tftp
	// HTTP only: the Authorization header, the method and the request-target as sent
	// (a Digest response covers both, RFC 7616 §3.4.1).
	Auth, Method, URI string
	// Peer is the client's certificate chain over HTTPS (leaf first), when it sent
	// one; the device-certificate check reads it.
	Peer []*x509.Certificate
}

// fetchResult is the answer: bytes, or a file on disk (firmware).
type fetchResult struct {
	Status      int      // HTTP terms: 200, 401, 403, 404, 429, 500
	Challenge   []string // WWW-Authenticate values of a 401
	Body        []byte
	Message     string // a 403's answer
	ContentType string
	FilePath    string
	Size        int64
}

var (
	notFound  = fetchResult{Status: 404}
	throttled = fetchResult{Status: 429}
	forbidden = fetchResult{Status: 403, Message: "this file needs the phone's own device certificate over HTTPS"}
	failed    = fetchResult{Status: 500}
	// refused: the tenant serves phones' own files over HTTPS only.
	refused = fetchResult{Status: 403}
)

// httpsOnlyMessage is the answer to a plain fetch of a file with secrets under
// provisioning_https_only.
const httpsOnlyMessage = "this file carries secrets: the tenant serves it over https:// only"

// plainRefused: a phone's own file (SIP passwords, the web admin password) asked
// over plain HTTP or TFTP from a tenant with provisioning_https_only.
func plainRefused(t *store.Tenant, r fetchRequest) bool {
	return t.ProvisioningHTTPSOnly && r.Proto != "https"
}

// fetch answers a request. A cached render costs a map lookup; everything the
// fetch tells (log entry, last seen) is queued, never written inline.
func (p *Provisioner) fetch(r fetchRequest) fetchResult {
	var t *store.Tenant
	var ok bool
	if r.Token != "" {
		t, ok = p.tenantByToken(r.Token)
		// a rotated token is held in memory: its grace is checked on every fetch
		ok = ok && t.TokenValid(r.Token, p.cfg.Now())
	} else {
		t, ok = p.tenantBySlug(r.Slug)
		ok = ok && t.TFTPBareNames
	}
	if !ok || len(r.Path) > 200 {
		return notFound
	}
	if blocked, _ := p.authFails.Blocked(ratelimit.Source(r.Addr)); blocked || p.scanBlocked(r.Addr) {
		return throttled
	}
	if len(r.UA) > 256 {
		r.UA = r.UA[:256]
	}
	switch {
	case strings.HasPrefix(r.Path, "fw/"):
		return p.fetchFirmware(*t, r)
	case strings.HasPrefix(r.Path, "directory/"):
		return p.fetchPhonebook(t, r)
	}
	return p.fetchConfig(*t, r)
}

func (p *Provisioner) fetchConfig(t store.Tenant, r fetchRequest) fetchResult {
	pr0 := p.cat.parse(&p.parsed, r.Path, r.UA)
	if !pr0.ok {
		return notFound
	}
	req, ua := pr0.req, pr0.ua
	var ph store.Phone
	known := false
	if req.MAC != "" {
		rec, err := p.phone(req.MAC)
		switch {
		case err == nil && rec.Tenant != t.Slug:
			return notFound // another tenant's phone: not ours to record or serve
		case err == nil:
			ph, known = *rec, true
		case !errors.Is(err, store.ErrNotFound):
			p.log.Error("phone lookup", "mac", req.MAC, "err", err)
			return failed
		}
	}
	mk := Identify(req, Make(ph.Make), ua)
	model := ph.Model
	if model == "" {
		model = req.Model
	}
	fromUA := false
	if model == "" && ua.Make == mk {
		model, fromUA = ua.Model, true
	}
	if m, ok := p.cat.Lookup(mk, model); ok {
		model, fromUA = m.Name, false
	}
	if req.MAC != "" && !known {
		if !p.unknownMAC(r.Addr, req.MAC) {
			return throttled
		}
		d := &store.Discovered{Tenant: t.Slug, MAC: req.MAC, Make: string(mk), Model: model, Addr: r.Addr.String(),
			UserAgent: r.UA, FirstSeen: p.cfg.Now().UTC(), LastSeen: p.cfg.Now().UTC()}
		if ua.Make == mk {
			d.Firmware = ua.Firmware
		}
		p.events.add(fetchEvent{tenant: t.Slug, entry: p.entry(r, req.MAC, mk, model, d.Firmware, 404, 0), addr: r.Addr, discovered: d})
		return notFound // unknown MACs never get secrets
	}
	if mk == "" {
		return notFound
	}
	if known && plainRefused(&t, r) {
		p.logFetch(t.Slug, r, ph.MAC, mk, model, "", 403, 0, false)
		return refused
	}
	if req.MAC == "" && ua.MAC != "" && ua.Make == mk {
		// A common file asked by a phone whose User-Agent names its MAC: an
		// unknown one is discovered here already (same throttle as {mac} names).
		if _, err := p.phone(ua.MAC); errors.Is(err, store.ErrNotFound) {
			if !p.unknownMAC(r.Addr, ua.MAC) {
				return throttled
			}
			now := p.cfg.Now().UTC()
			p.events.add(fetchEvent{tenant: t.Slug, addr: r.Addr, entry: p.entry(r, ua.MAC, mk, model, ua.Firmware, 200, 0),
				discovered: &store.Discovered{Tenant: t.Slug, MAC: ua.MAC, Make: string(mk), Model: model, Firmware: ua.Firmware,
					Addr: r.Addr.String(), UserAgent: r.UA, FirstSeen: now, LastSeen: now}})
		}
	}
	kind := req.KindFor(mk)
	if kind == KindDirectory {
		if !known {
			return notFound
		}
		if res, ok := p.authorizePhone(&t, ph.MAC, r, false); !ok {
			return res
		}
		if fromUA {
			model = "" // free text from a User-Agent names no model's settings
		}
		return p.fetchPolyDirectory(t, ph, r, model) // polydir.go
	}
	firmware := ""
	if ua.Make == mk {
		firmware = ua.Firmware
	}
	if fromUA {
		model = "" // a model only a User-Agent names is free text: render the make's files
	}
	var dv deviceVerdict
	if known {
		// the phone's own file: its secrets need the device certificate (device_auth),
		// checked at every fetch, cached or not
		if dv = p.deviceCheck(&t, ph.MAC, r); !dv.ok {
			p.logDevice(t.Slug, r, ph.MAC, mk, model, firmware, 0, dv)
			return forbidden
		}
	}
	if known && kind == KindPhone {
		// the phone's own file carries its secrets: every fetch, cached or not, passes
		// authorizePhone (after the device certificate, so a refused fetch does not use
		// up the phone's one fetch without credentials)
		if ph.AdminPassword == "" || ph.ProvisioningPassword == "" {
			// a phone stored before phones had their own passwords gets them now, once
			if err := p.st.Update(func(tx *store.Tx) (err error) { ph, err = tx.OwnPasswords(ph.MAC); return err }); err != nil {
				p.log.Error("phone passwords", "mac", ph.MAC, "err", err)
				return failed
			}
		}
		if res, ok := p.authorizePhone(&t, ph.MAC, r, true); !ok {
			return res
		}
	}
	key := cacheKey{tenant: t.Slug, file: r.Path, make: mk, model: model}
	if kind == KindBoot && !known && ua.Make == Yealink {
		key.bootMAC = ua.MAC
	}
	if e := p.cache.get(key); e != nil {
		if dv.device != "" {
			p.logDevice(t.Slug, r, e.mac, e.make, e.model, firmware, len(e.body), dv) // logged one by one
			return fetchResult{Status: 200, Body: e.body, ContentType: e.contentType}
		}
		if !p.events.hit(e, r.Addr, r.Proto, r.UA, firmware, p.cfg.Now().UTC()) {
			p.logFetch(t.Slug, r, e.mac, e.make, e.model, firmware, 200, len(e.body), e.mac != "")
		} else if e.mac != "" && p.cfg.OnFetch != nil {
			p.cfg.OnFetch(t.Slug, e.mac, p.cfg.Now())
		}
		return fetchResult{Status: 200, Body: e.body, ContentType: e.contentType}
	}
	gen := p.cache.generation()
	var pr *Profile
	var err error
	user := ""
	if known {
		pr, user, err = p.phoneProfile(t, ph, mk, model, r.Path)
	} else {
		pr, err = p.commonProfile(t, mk, model, r.Path)
	}
	if err == nil && pr.MAC == "" && key.bootMAC != "" {
		pr.MAC = key.bootMAC // the boot file names the phone's own file; no secrets in it
	}
	if err != nil {
		p.log.Error("profile", "tenant", t.Slug, "mac", ph.MAC, "file", r.Path, "err", err)
		return failed
	}
	body, err := p.renderer.Render(pr, kind)
	if err != nil {
		p.log.Error("render failed", "tenant", t.Slug, "mac", ph.MAC, "file", r.Path, "make", mk, "model", model,
			"templates", strings.Join(TemplateNames(mk, model, kind), ","), "err", err)
		return failed
	}
	e := &cacheEntry{key: key, body: body, contentType: contentType(body), tenant: t.Slug, mac: ph.MAC, user: user,
		make: mk, model: model, file: r.Path}
	p.cache.put(e, gen)
	if dv.device != "" {
		p.logDevice(t.Slug, r, ph.MAC, mk, model, firmware, len(body), dv)
	} else {
		p.logFetch(t.Slug, r, ph.MAC, mk, model, firmware, 200, len(body), known)
	}
	return fetchResult{Status: 200, Body: body, ContentType: e.contentType}
}

// phone reads a phone record, from the render cache's copy when it holds one.
func (p *Provisioner) phone(mac string) (*store.Phone, error) {
	if ph := p.cache.phone(mac); ph != nil {
		return ph, nil
	}
	gen := p.cache.generation()
	ph, err := p.st.Phone(mac)
	if err != nil {
		return nil, err
	}
	p.cache.putPhone(&ph, gen)
	return &ph, nil
}

func (p *Provisioner) fetchFirmware(t store.Tenant, r fetchRequest) fetchResult {
	name := strings.TrimPrefix(r.Path, "fw/")
	path, err := p.firmwarePath(t.Slug, name)
	if err != nil {
		return notFound
	}
	var fw store.Firmware
	if err := p.st.View(func(tx *store.Tx) error { fw, err = tx.Firmware(t.Slug, name); return err }); err != nil {
		return notFound
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		p.log.Warn("firmware file missing", "tenant", t.Slug, "file", name)
		return notFound
	}
	// Who fetched which image: the phone's MAC and running firmware when its User-Agent
	// tells them (Poly's does not: its address is in the entry).
	ua := ParseUserAgent(r.UA)
	mac := ""
	if ua.MAC != "" {
		if ph, err := p.phone(ua.MAC); err == nil && ph.Tenant == t.Slug {
			mac = ph.MAC
		}
	}
	e := p.entry(r, mac, Make(fw.Make), fw.Model, ua.Firmware, 200, int(st.Size()))
	e.Image, e.ImageVersion = fw.Name, fw.Version
	p.events.add(fetchEvent{tenant: t.Slug, entry: e, addr: r.Addr})
	return fetchResult{Status: 200, FilePath: path, Size: st.Size(), ContentType: "application/octet-stream"}
}

func (p *Provisioner) fetchDirectory(t store.Tenant, file string) fetchResult {
	vendor, ok := strings.CutSuffix(file, ".xml")
	if !ok || p.cfg.Phonebooks == nil {
		return notFound
	}
	if _, ok := ParseMake(vendor); !ok || vendor != strings.ToLower(vendor) {
		return notFound
	}
	var buf bytes.Buffer
	if err := p.cfg.Phonebooks.WriteXML(&buf, t.Slug, vendor, t.PhonebookMobile); err != nil {
		p.log.Warn("xml phonebook", "tenant", t.Slug, "vendor", vendor, "err", err)
		return notFound
	}
	return fetchResult{Status: 200, Body: buf.Bytes(), ContentType: "text/xml; charset=utf-8"}
}

// fetchPhonebook serves directory/{mac}/{make}.xml to a known phone of the tenant
// (with the same checks as its config) and directory/{make}.xml to whoever gives the
// tenant's phonebook account (HTTP Basic).
func (p *Provisioner) fetchPhonebook(t *store.Tenant, r fetchRequest) fetchResult {
	rest := strings.TrimPrefix(r.Path, "directory/")
	if mac, file, ok := strings.Cut(rest, "/"); ok {
		if !isHex12(mac, false) {
			return notFound
		}
		ph, err := p.st.Phone(mac)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && ph.Tenant != t.Slug:
			if !p.unknownMAC(r.Addr, mac) {
				return throttled
			}
			return notFound
		case err != nil:
			p.log.Error("phone lookup", "mac", mac, "err", err)
			return failed
		}
		if res, ok := p.authorizePhone(t, ph.MAC, r, false); !ok {
			return res
		}
		return p.fetchDirectory(*t, file)
	}
	if res, ok := p.phonebookAccount(t, r); !ok {
		return res
	}
	return p.fetchDirectory(*t, rest)
}

func (p *Provisioner) entry(r fetchRequest, mac string, mk Make, model, firmware string, status, n int) store.ProvisionLogEntry {
	return store.ProvisionLogEntry{Time: p.cfg.Now().UTC(), MAC: mac, File: r.Path, Protocol: r.Proto, Make: string(mk),
		Model: model, Firmware: firmware, UserAgent: r.UA, Status: status, Bytes: int64(n)}
}

// logDevice logs a fetch of a phone's own file with what the device-certificate check
// found: served (touching the phone's last seen) or refused with 403.
func (p *Provisioner) logDevice(slug string, r fetchRequest, mac string, mk Make, model, firmware string, n int, v deviceVerdict) {
	status := 200
	if !v.ok {
		status, n = 403, 0
	}
	e := p.entry(r, mac, mk, model, firmware, status, n)
	e.Device, e.Reason = v.device, v.reason
	p.events.add(fetchEvent{tenant: slug, entry: e, addr: r.Addr, known: v.ok})
}

func (p *Provisioner) logFetch(slug string, r fetchRequest, mac string, mk Make, model, firmware string, status, n int, known bool) {
	if known && mac != "" && status < 300 && p.cfg.OnFetch != nil {
		p.cfg.OnFetch(slug, mac, p.cfg.Now())
	}
	p.events.add(fetchEvent{tenant: slug, entry: p.entry(r, mac, mk, model, firmware, status, n), addr: r.Addr, known: known && mac != ""})
}

// tenantBySlug serves TFTP's bare names (tenant "default", when its tftp_bare_names
// is on).
func (p *Provisioner) tenantBySlug(slug string) (*store.Tenant, bool) {
	if !safeToken(slug, 64) {
		return nil, false
	}
	p.tokMu.RLock()
	t, ok := p.bySlug[slug]
	p.tokMu.RUnlock()
	if ok {
		return t, true
	}
	st, err := p.st.Tenant(slug)
	if err != nil {
		return nil, false
	}
	p.tokMu.Lock()
	p.bySlug[slug] = &st
	p.tokMu.Unlock()
	return &st, true
}

func contentType(body []byte) string {
	if bytes.HasPrefix(body, []byte("<")) {
		return "text/xml; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}
