package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
	"github.com/valyala/fasthttp"
)

// Body limits (docs/api.md, "Limits").
const (
	MaxJSONBody  = 1 << 20  // JSON requests
	MaxCSVBody   = 20 << 20 // CSV import
	MaxPhotoBody = 2 << 20  // PUT …/photo
	// MaxRequestBody is what the HTTP server in front must accept at least, so that the
	// API itself can answer 413 in its own error shape.
	MaxRequestBody = MaxCSVBody + 1
)

// Config is what New needs. Store is required; every service interface may be nil (its
// routes then answer 503).
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// PublicHost and HTTPPort build provisioning_url: http://{host}:{port}/p/{token}/.
	PublicHost string
	HTTPPort   int
	// SecureBaseURL is https://{host}:{port} when HTTPS is on (empty when off): the
	// provisioning_url of a tenant with provisioning_https_only starts with it.
	SecureBaseURL string
	// TLS is the appliance's certificate, shown by GET /api/v1/tls (nil: 503).
	TLS TLSInfo
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// SessionTTL is the life of a login session (default 12h); view-as sessions live at
	// most one hour.
	SessionTTL time.Duration
	// LoginFailures failed logins per minute from one source address lock that address
	// out of login for LoginLockout (defaults 10 and 10 minutes).
	LoginFailures int
	LoginLockout  time.Duration

	Registrations Registrations
	Resyncer      Resyncer
	Actions       PhoneActions
	Flex          FlexDesk
	Outbox        Outbox
	Welcome       Welcomer
	// Upstreams tells how tenants' registrations to their upstream stand.
	Upstreams UpstreamStates
	// Provisioning (firmware, model profiles, templates; provisioning.go) and the
	// directory of template overrides, {data}/templates.
	Provisioning Provisioning
	TemplateDir  string
}

// API serves /api/v1/….
type API struct {
	cfg     Config
	st      *store.Store
	log     *slog.Logger
	routes  []*route
	strikes *ratelimit.Strikes[netip.Addr] // failed logins per source (throttle.go)
	imports *importJobs                    // CSV imports run as jobs (importjobs.go)
	forgot  forgotLimits                   // forgot-password asks (forgotpassword.go)
	users   *userIndex                     // what user search and sort read (userindex.go)
}

// New builds the API.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LoginFailures <= 0 {
		cfg.LoginFailures = 10
	}
	if cfg.LoginLockout <= 0 {
		cfg.LoginLockout = 10 * time.Minute
	}
	a := &API{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("svc", "admin")}
	a.strikes = newLoginStrikes(cfg)
	a.imports = newImportJobs(cfg.Store.Now)
	a.forgot = newForgotLimits(cfg.Store.Now)
	a.users = newUserIndex(cfg.Store)
	a.routes = a.routeTable()
	return a, nil
}

// Mount handles the request when its path is under /api/v1/ and reports the route
// pattern it matched, for cmd/dialtone's HTTP mux and metrics.
func (a *API) Mount(ctx *fasthttp.RequestCtx) (route string, handled bool) {
	if !strings.HasPrefix(string(ctx.Path()), "/api/v1/") && string(ctx.Path()) != "/api/v1" {
		return "", false
	}
	return a.serve(ctx), true
}

// Handler serves one request (any path; paths outside /api/v1/ answer 404).
func (a *API) Handler(ctx *fasthttp.RequestCtx) { a.serve(ctx) }

// Serve runs a fasthttp server with Handler on ln until ctx is cancelled (standalone use
// and tests; cmd/dialtone mounts the API on its shared listener instead).
func (a *API) Serve(ctx context.Context, ln net.Listener) error {
	srv := &fasthttp.Server{Handler: a.Handler, Name: "dialtone", MaxRequestBodySize: MaxRequestBody + 1<<20,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.ShutdownWithContext(sctx)
	return nil
}

// provisioningURL is where phones of the tenant fetch their files: over HTTPS when the
// tenant refuses secrets over plain HTTP and HTTPS is on.
func (a *API) provisioningURL(t store.Tenant) string {
	if t.ProvisioningHTTPSOnly && a.cfg.SecureBaseURL != "" {
		return strings.TrimRight(a.cfg.SecureBaseURL, "/") + "/p/" + t.ProvisioningToken + "/"
	}
	return a.plainProvisioningURL(t.ProvisioningToken)
}

func (a *API) plainProvisioningURL(token string) string {
	host := a.cfg.PublicHost
	if host == "" {
		host = "localhost"
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // IPv6 literal
	}
	port := a.cfg.HTTPPort
	if port == 0 {
		port = 8080
	}
	return "http://" + host + ":" + strconv.Itoa(port) + "/p/" + token + "/"
}
