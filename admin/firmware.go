package admin

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/valyala/fasthttp"
)

// Firmware uploads are the one body that is not read into memory: the route is marked
// stream, and with fasthttp's StreamRequestBody the handler reads the body as it
// arrives (without it, e.g. in tests, the server has buffered it already).
const (
	MaxFirmwareBody = 1 << 30 // POST …/firmware
	MaxTemplateBody = 256 << 10
	// uploadIdle is how long an upload may stall before the connection is dropped; each
	// read pushes the deadline on, so a slow link may take as long as it needs.
	uploadIdle = 60 * time.Second
)

var errBodyTooLarge = errors.New("request body too large")

// checkBody enforces a route's body limit before the handler runs. A declared
// Content-Length over it is refused unread; a streamed body (chunked, or over the
// server's in-memory size) is read up to the limit only, so a JSON route never pulls a
// gigabyte into memory. Stream routes read their body themselves.
func checkBody(ctx *fasthttp.RequestCtx, rt *route, limit int) *Problem {
	tooLarge := problem(413, "too_large", "", "request body over "+humanBytes(limit))
	if ctx.Request.Header.ContentLength() > limit {
		ctx.SetConnectionClose() // the body stays unread
		return tooLarge
	}
	if rt.stream {
		return nil
	}
	s := ctx.RequestBodyStream()
	if s == nil {
		if len(ctx.Request.Body()) > limit {
			return tooLarge
		}
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(s, int64(limit)+1))
	if err != nil {
		ctx.SetConnectionClose()
		return badRequest("", "the request body could not be read")
	}
	if len(b) > limit {
		ctx.SetConnectionClose()
		return tooLarge
	}
	ctx.Request.SetBody(b)
	return nil
}

// uploadBody is a stream route's body: at most limit bytes (more is errBodyTooLarge),
// with the connection's read deadline pushed on at every read.
type uploadBody struct {
	r     io.Reader
	conn  net.Conn
	left  int64
	total int64
	done  bool
}

func (r *request) uploadBody(limit int64) *uploadBody {
	var rd io.Reader = r.ctx.RequestBodyStream()
	if rd == nil {
		rd = bytes.NewReader(r.ctx.Request.Body())
	}
	return &uploadBody{r: rd, conn: r.ctx.Conn(), left: limit}
}

func (u *uploadBody) Read(p []byte) (int, error) {
	if u.conn != nil {
		_ = u.conn.SetReadDeadline(time.Now().Add(uploadIdle))
	}
	if int64(len(p)) > u.left+1 {
		p = p[:u.left+1]
	}
	n, err := u.r.Read(p)
	u.total += int64(n)
	u.left -= int64(n)
	if u.left < 0 {
		return n, errBodyTooLarge
	}
	if err == io.EOF {
		u.done = true
	}
	return n, err
}

// firmwareView is a firmware file as listed; url is what phones fetch.
type firmwareView struct {
	store.Firmware
	TargetOf []string `json:"target_of"`
	// Offer, on an upload for a model, says how to point the model's phones at the file:
	// the same upload with target=true when the model has no target, else staging.
	Offer string `json:"offer,omitempty"`
}

// uploadFirmware: POST …/firmware?name=&model=&version= with the file as the body
// (phones.manage). The name is the file name phones ask for under /p/{token}/fw/.
func (a *API) uploadFirmware(r *request) (any, error) {
	// Whatever happens, an unread rest of the body must not be taken for the next
	// request on this connection.
	body := r.uploadBody(MaxFirmwareBody)
	defer func() {
		if !body.done {
			r.ctx.SetConnectionClose()
		}
	}()
	sc, p, err := r.phonesAdmin()
	if err != nil {
		return nil, err
	}
	q := r.ctx.QueryArgs()
	f := store.Firmware{Tenant: sc.tenant, Name: string(q.Peek("name")), Version: string(q.Peek("version"))}
	if !safeFirmwareName(f.Name) {
		return nil, badRequest("name", "name is the file name phones fetch: 1 to 96 of A-Z a-z 0-9 . _ -, not starting with a dot")
	}
	if len(f.Version) > 64 || hasControl(f.Version) {
		return nil, badRequest("version", "version is at most 64 printable characters")
	}
	var model store.PhoneModel
	if name := string(q.Peek("model")); name != "" {
		m, ok := lookupModel(p, name)
		if !ok {
			return nil, badRequest("model", "not a phone model Dialtone knows: "+name)
		}
		f.Make, f.Model, model = m.Make, m.Name, m
	}
	target := false
	switch v := string(q.Peek("target")); v {
	case "", "false":
	case "true":
		if f.Model == "" {
			return nil, badRequest("target", "target=true needs model=: the model whose phones get the file")
		}
		target = true
	default:
		return nil, badRequest("target", "target is true or false")
	}
	err = a.view(func(tx *store.Tx) error {
		_, err := tx.Firmware(sc.tenant, f.Name)
		if err == nil {
			return problem(409, "conflict", "name", "firmware "+f.Name+" exists; upload under a new name (or delete it first)")
		}
		if isNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	saved, err := p.AddFirmware(f, body)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, problem(413, "too_large", "", "firmware over "+humanBytes(MaxFirmwareBody))
	case errors.Is(err, store.ErrInvalid):
		return nil, badRequest("", err.Error())
	case err != nil:
		return nil, err
	}
	// The file and its record are written by AddFirmware; the audit event follows in
	// its own transaction.
	view := firmwareView{Firmware: saved, TargetOf: []string{}}
	err = a.update(func(tx *store.Tx) error {
		if err := r.audit(tx, sc.tenant, "firmware.upload", "firmware/"+saved.Name, "", nil, saved); err != nil {
			return err
		}
		if saved.Model == "" {
			return nil
		}
		mp, err := tx.ModelProfile(sc.tenant, model.Make, model.Name)
		if err != nil && !isNotFound(err) {
			return err
		}
		base := "/api/v1/tenants/" + sc.tenant
		switch {
		case target:
			prev := mp
			next := mp
			next.Tenant, next.Make, next.Model = sc.tenant, model.Make, model.Name
			next.PreviousFirmware, next.Firmware = mp.Firmware, saved.Name
			if err := tx.SaveModelProfile(next); err != nil {
				return err
			}
			view.TargetOf = []string{model.Name}
			return r.audit(tx, sc.tenant, "model.update", "model/"+model.Make+"/"+model.Name, "",
				newModelView(model, prev).firmwareFields(), newModelView(model, next).firmwareFields())
		case mp.Firmware == "":
			view.Offer = "make it the target of " + model.Name + ": POST " + base + "/models/" + model.Name +
				`/firmware/target {"firmware":"` + saved.Name + `"}, or upload with ?target=true`
		default:
			view.Offer = "POST " + base + "/models/" + model.Name + `/firmware/stage {"firmware":"` + saved.Name +
				`","percent":10} tries it on some phones first; then …/firmware/rollout or …/firmware/rollback`
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.status = 201
	return view, nil
}

// listFirmware: GET …/firmware (phones.manage): every file with SHA-256, size and the
// models that target it.
func (a *API) listFirmware(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	out := []firmwareView{}
	err = a.view(func(tx *store.Tx) error {
		fws, err := tx.Firmwares(sc.tenant)
		if err != nil {
			return err
		}
		mps, err := tx.ModelProfiles(sc.tenant)
		if err != nil {
			return err
		}
		for _, f := range fws {
			v := firmwareView{Firmware: f, TargetOf: []string{}}
			for _, m := range mps {
				if m.Firmware == f.Name {
					v.TargetOf = append(v.TargetOf, m.Model)
				}
			}
			out = append(out, v)
		}
		return nil
	})
	return page[firmwareView]{Items: out}, err
}

// deleteFirmware: DELETE …/firmware/{name} (phones.manage); 409 while a model targets
// the file.
func (a *API) deleteFirmware(r *request) (any, error) {
	sc, p, err := r.phonesAdmin()
	if err != nil {
		return nil, err
	}
	name := r.param("name")
	var before store.Firmware
	err = a.view(func(tx *store.Tx) (err error) { before, err = tx.Firmware(sc.tenant, name); return err })
	if err != nil {
		return nil, err
	}
	if err := p.DeleteFirmware(sc.tenant, name); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem(409, "firmware_in_use", "name", err.Error())
		}
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		return r.audit(tx, sc.tenant, "firmware.delete", "firmware/"+name, "", before, nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// safeFirmwareName is a file name phones can ask for: provision serves only such names.
func safeFirmwareName(s string) bool {
	if len(s) == 0 || len(s) > 96 || s[0] == '.' || bytes.Contains([]byte(s), []byte("..")) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
