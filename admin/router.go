package admin

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/valyala/fasthttp"
)

// route is one row of the route table: Routes and the OpenAPI tests walk the same table.
type route struct {
	method  string
	pattern string // "/api/v1/tenants/{slug}/users/{id}"
	segs    []string
	public  bool // no session needed
	limit   int  // body limit; 0 means MaxJSONBody
	stream  bool // the handler reads the body itself (firmware uploads; firmware.go)
	handle  func(r *request) (any, error)
}

func (rt *route) name() string { return rt.method + " " + rt.pattern }

// request is one API call in progress.
type request struct {
	ctx    *fasthttp.RequestCtx
	api    *API
	route  *route
	params map[string]string
	source string
	caller *caller
	status int // answer status when the handler succeeds (default 200)
}

func (r *request) param(name string) string { return r.params[name] }

func (a *API) routeTable() []*route {
	var rs []*route
	add := func(method, pattern string, h func(*request) (any, error)) *route {
		rt := &route{method: method, pattern: pattern, handle: h}
		rt.segs = strings.Split(strings.TrimPrefix(pattern, "/"), "/")
		rs = append(rs, rt)
		return rt
	}
	t := "/api/v1/tenants/{slug}"
	add("GET", "/api/v1/openapi.json", a.openAPI).public = true
	add("POST", "/api/v1/auth/login", a.login).public = true
	add("POST", "/api/v1/auth/set-password", a.setPassword).public = true       // mail: setpassword.go
	add("POST", "/api/v1/auth/forgot-password", a.forgotPassword).public = true // forgotpassword.go
	add("POST", t+"/users/{id}/welcome", a.resendWelcome)
	add("POST", t+"/users/{id}/reset-password", a.resetPassword) // resetpassword.go
	add("DELETE", t+"/users/{id}/pin-lock", a.clearPINLock)      // pinlock.go
	add("POST", "/api/v1/auth/logout", a.logout)
	add("POST", "/api/v1/auth/view-as", a.viewAs)
	add("GET", "/api/v1/me", a.me)
	add("PATCH", "/api/v1/me", a.patchMe)
	add("GET", "/api/v1/me/audit", a.myAudit)
	add("GET", "/api/v1/me/phones", a.myPhones)           // mephones.go
	add("POST", "/api/v1/me/flex-logout", a.myFlexLogout) // mephones.go
	add("GET", "/api/v1/me/calls", a.myCalls)
	add("GET", "/api/v1/tls", a.getTLS) // tls.go

	add("GET", "/api/v1/tenants", a.listTenants)
	add("POST", "/api/v1/tenants", a.createTenant)
	add("GET", t, a.getTenant)
	add("PATCH", t, a.patchTenant)
	add("POST", t+"/provisioning-token/rotate", a.rotateProvisioningToken)

	add("GET", t+"/departments", a.listDepartments)
	add("POST", t+"/departments", a.createDepartment)
	add("GET", t+"/departments/{id}", a.getDepartment)
	add("PATCH", t+"/departments/{id}", a.patchDepartment)
	add("DELETE", t+"/departments/{id}", a.deleteDepartment)

	add("GET", t+"/users", a.listUsers)
	add("POST", t+"/users", a.createUser)
	add("POST", t+"/users/import", a.importUsers).limit = MaxCSVBody
	add("GET", t+"/users/import/jobs/{id}", a.importJob) // importjobs.go
	add("GET", t+"/users/{id}", a.getUser)
	add("PATCH", t+"/users/{id}", a.patchUser)
	add("DELETE", t+"/users/{id}", a.deleteUser)
	add("GET", t+"/users/{id}/delete-preview", a.deletePreview) // userdelete.go
	add("GET", t+"/users/{id}/keys", a.getUserKeys)             // userkeys.go
	add("PUT", t+"/users/{id}/keys", a.putUserKeys)
	add("PUT", t+"/users/{id}/photo", a.putPhoto).limit = MaxPhotoBody
	add("GET", t+"/users/{id}/photo", a.getPhoto)
	add("DELETE", t+"/users/{id}/photo", a.deletePhoto)
	add("POST", t+"/users/{id}/sip-credentials", a.regenerateSIP)

	add("GET", t+"/extensions", a.listExtensions)
	add("GET", t+"/phones", a.listPhones)
	add("POST", t+"/phones", a.createPhone)
	add("POST", t+"/phones/actions", a.startPhoneAction) // phoneactions.go
	add("GET", t+"/phones/actions/{id}", a.phoneAction)
	add("GET", t+"/phones/{mac}", a.getPhone)
	add("PATCH", t+"/phones/{mac}", a.patchPhone)
	add("DELETE", t+"/phones/{mac}", a.deletePhone)
	add("POST", t+"/phones/{mac}/resync", a.resyncPhone)
	add("POST", t+"/phones/{mac}/provisioning-credentials", a.rotateProvisioningCredentials)
	add("POST", t+"/phones/{mac}/move", a.movePhone)
	add("POST", t+"/phones/{mac}/login", a.flexLogin)
	add("POST", t+"/phones/{mac}/logout", a.flexLogout)

	add("GET", t+"/registrations", a.registrations)
	add("GET", t+"/audit", a.auditLog)
	add("GET", t+"/calls", a.listCalls) // calls.go
	add("GET", t+"/outbox", a.outbox)

	// Provisioning admin (issue 3): provisioning.go, firmware.go, templates.go.
	fw := add("POST", t+"/firmware", a.uploadFirmware)
	fw.limit, fw.stream = MaxFirmwareBody, true
	add("GET", t+"/firmware", a.listFirmware)
	add("DELETE", t+"/firmware/{name}", a.deleteFirmware)
	add("GET", t+"/models", a.listModels)
	add("GET", t+"/models/{model}", a.getModel)
	add("PUT", t+"/models/{model}", a.putModel)
	add("POST", t+"/models/{model}/firmware/target", a.targetFirmware) // firmwarestage.go
	add("POST", t+"/models/{model}/firmware/stage", a.stageFirmware)
	add("POST", t+"/models/{model}/firmware/rollout", a.rolloutFirmware)
	add("POST", t+"/models/{model}/firmware/rollback", a.rollbackFirmware)
	add("GET", t+"/templates", a.listTemplates)
	add("GET", t+"/templates/{name}", a.getTemplate)
	add("PUT", t+"/templates/{name}", a.putTemplate).limit = MaxTemplateBody
	add("DELETE", t+"/templates/{name}", a.deleteTemplate)
	add("GET", t+"/provisioning-log", a.provisioningLog)
	add("GET", t+"/discovered-phones", a.discoveredPhones)
	add("DELETE", t+"/discovered-phones/{mac}", a.dismissDiscovered)
	add("POST", t+"/trust/device-cas", a.addDeviceCAs).limit = MaxDeviceCABody // devicecas.go
	add("GET", t+"/trust/device-cas", a.listDeviceCAs)
	add("DELETE", t+"/trust/device-cas/{id}", a.deleteDeviceCA)
	add("GET", t+"/upstream", a.getUpstream) // upstream.go
	add("PUT", t+"/upstream", a.putUpstream)
	add("DELETE", t+"/upstream", a.deleteUpstream)
	return rs
}

// Routes lists every route of the API as "METHOD /pattern", in the order of the table
// the router matches against (the same table, not a copy): the docs test checks the
// OpenAPI document against it.
func Routes() []string {
	var a *API // routeTable only takes method values; no handler runs
	var out []string
	for _, rt := range a.routeTable() {
		out = append(out, rt.name())
	}
	return out
}

// match finds the route of a path; pathMatched says whether some route had the path
// (for 405 rather than 404).
func (a *API) match(method, path string) (rt *route, params map[string]string, pathMatched bool, allow []string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, cand := range a.routes {
		if len(cand.segs) != len(segs) {
			continue
		}
		var p map[string]string
		ok := true
		for i, s := range cand.segs {
			if strings.HasPrefix(s, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				if p == nil {
					p = map[string]string{}
				}
				p[s[1:len(s)-1]] = segs[i]
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		// A literal route (users/import) wins over a parameter one (users/{id}) for the
		// same path: the table lists literal ones first.
		if cand.method == method {
			return cand, p, true, nil
		}
		pathMatched = true
		allow = append(allow, cand.method)
	}
	return nil, nil, pathMatched, allow
}

func (a *API) serve(ctx *fasthttp.RequestCtx) string {
	method, path := string(ctx.Method()), string(ctx.Path())
	if method == "HEAD" {
		method = "GET"
	}
	rt, params, pathMatched, allow := a.match(method, path)
	name := "unmatched"
	r := &request{ctx: ctx, api: a, route: rt, params: params, source: a.source(ctx), status: 200}
	switch {
	case rt != nil:
		name = rt.name()
		a.run(r)
	case pathMatched:
		ctx.Response.Header.Set("Allow", strings.Join(allow, ", "))
		writeProblem(ctx, problem(405, "method_not_allowed", "", "method not allowed; allowed: "+strings.Join(allow, ", ")))
	default:
		writeProblem(ctx, notFound("no such path"))
	}
	return name
}

func (a *API) run(r *request) {
	ctx := r.ctx
	limit := r.route.limit
	if limit == 0 {
		limit = MaxJSONBody
	}
	if p := checkBody(ctx, r.route, limit); p != nil {
		writeProblem(ctx, p)
		return
	}
	if !r.route.public {
		c, err := a.authenticate(r)
		if err != nil {
			a.fail(r, err)
			return
		}
		r.caller = c
	}
	out, err := r.route.handle(r)
	if err != nil {
		a.fail(r, err)
	} else {
		writeAnswer(ctx, r.status, out)
	}
	if r.caller != nil && r.caller.viewAs {
		a.auditViewAsRequest(r)
	}
}

func (a *API) fail(r *request, err error) {
	p, ok := toProblem(err)
	if !ok {
		a.log.Error("request failed", "route", r.route.name(), "err", err)
	}
	writeProblem(r.ctx, p)
}

// rawAnswer is a body written as is (photos).
type rawAnswer struct {
	contentType string
	body        []byte
}

func writeAnswer(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if raw, ok := v.(rawAnswer); ok {
		ctx.SetStatusCode(status)
		ctx.SetContentType(raw.contentType)
		ctx.SetBody(raw.body)
		return
	}
	if status == fasthttp.StatusNoContent || v == nil {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(ctx, &Problem{Status: 500, Code: "internal", Message: "cannot encode answer"})
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

func writeProblem(ctx *fasthttp.RequestCtx, p *Problem) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}
	out := map[string]any{"error": body{p.Code, p.Message, p.Field}}
	if p.Details != nil {
		out["details"] = p.Details
	}
	b, _ := json.Marshal(out)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(int((p.RetryAfter+time.Second-1)/time.Second)))
	}
	ctx.SetStatusCode(p.Status)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// update and view are short names for the store's transactions.
func (a *API) update(fn func(tx *store.Tx) error) error { return a.st.Update(fn) }
func (a *API) view(fn func(tx *store.Tx) error) error   { return a.st.View(fn) }
