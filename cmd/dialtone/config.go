package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/ldapdir"
	"github.com/dialtone/dialtone/sip"
)

// Config is what serve runs with. Each field is a flag, a DIALTONE_* variable and a key of
// the optional config file; the flag wins over the environment, which wins over the file.
type Config struct {
	Data          string
	HTTP          string
	HTTPS         string // empty disables HTTPS
	TFTP          string
	SIP           string
	SIPS          string // SIP over TLS (RFC 3261 §26.2)
	PnP           string // "true": answer SIP plug-and-play SUBSCRIBEs (wire_pnp.go)
	PnPInterfaces string // comma-separated interfaces to join 224.0.1.75 on
	PnPUnclaimed  string // "true": the default tenant answers addresses no tenant claims
	LDAP          string
	LDAPS         string // LDAP over TLS from the first byte (RFC 4513 §3.1.3 "ldaps")
	PublicHost    string
	AdminPassword string
	SMTP          string
	MailFrom      string
	TrustedProxy  string // comma-separated addresses whose X-Forwarded-For is believed
	LogLevel      string
	MetricsAddr   string // /metrics, /healthz, /readyz for a scraper; empty disables
	MetricsToken  string // bearer token for /metrics on the HTTP and HTTPS listeners; empty: not served there

	// Scheduled backups (backupschedule.go).
	BackupDir            string
	BackupEvery          string
	BackupKeep           string
	BackupPassphraseFile string
	BackupPlaintext      string
	TLSCert              string // PEM chain of the appliance's certificate (with TLSKey)
	TLSKey               string
	ACMEDomain           string // public name to get the certificate for by ACME
	ACMEEmail            string
	ACMEDirectory        string
	// hooks is nil but in tests (no flag sets it).
	hooks *testHooks
	// Connections one source address (an IPv6 /64) may hold open at once, per service;
	// empty is the default, 0 no cap (connlimits.go).
	HTTPConnsPerSource string
	LDAPConnsPerSource string
	SIPConnsPerSource  string
	// SIPInvitesPerSource is how many new INVITEs one address may send a second
	// (sip.Config.InvitesPerSource); 0 no cap.
	SIPInvitesPerSource string
}

type option struct {
	name, env, def, usage string
	ptr                   *string
	secret                bool
}

func (c *Config) options() []option {
	return []option{
		{"data", "DIALTONE_DATA", "./dialtone-data", "BadgerDB directory (and firmware/photo files under it)", &c.Data, false},
		{"http", "DIALTONE_HTTP", ":8080", "provisioning, firmware, XML apps, admin API", &c.HTTP, false},
		{"https", "DIALTONE_HTTPS", defaultHTTPS(), "HTTPS: the same as --http over TLS; the admin API and console then redirect there from plain HTTP; empty disables", &c.HTTPS, false},
		{"tftp", "DIALTONE_TFTP", ":69", "TFTP (UDP); empty disables", &c.TFTP, false},
		{"sip", "DIALTONE_SIP", ":5060", "SIP over UDP and TCP on the same port; empty disables", &c.SIP, false},
		{"sips", "DIALTONE_SIPS", ":5061", "SIP over TLS with the appliance's certificate; empty disables", &c.SIPS, false},
		{"pnp", "DIALTONE_PNP", "true", "answer SIP plug-and-play SUBSCRIBEs (Event: ua-profile) on the --sip port and the multicast group 224.0.1.75 with the phone's provisioning URL", &c.PnP, false},
		{"pnp-interfaces", "DIALTONE_PNP_INTERFACES", "", "comma-separated interfaces to join 224.0.1.75 on (default: every interface that is up, multicast-capable and not loopback)", &c.PnPInterfaces, false},
		{"pnp-unclaimed", "DIALTONE_PNP_UNCLAIMED", "true", "true: a plug-and-play SUBSCRIBE from an address no tenant's pnp_subnets claim is answered for the default tenant, unless it claims subnets itself", &c.PnPUnclaimed, false},
		{"ldap", "DIALTONE_LDAP", ":389", "LDAP (StartTLS with the appliance's certificate); empty disables", &c.LDAP, false},
		{"ldaps", "DIALTONE_LDAPS", byUID(":636", ":6636"), "LDAPS (LDAP over TLS, the appliance's certificate); empty disables", &c.LDAPS, false},
		{"public-host", "DIALTONE_PUBLIC_HOST", "", "host name or address written into phone configs (default: first non-loopback address)", &c.PublicHost, false},
		{"admin-password", "DIALTONE_ADMIN_PASSWORD", "", "password of the first System Owner, used only when the store is empty (default: random, printed once)", &c.AdminPassword, true},
		{"smtp", "DIALTONE_SMTP", "", "smtp://[user:pass@]host:port or smtps://; empty: mail waits in the outbox", &c.SMTP, true},
		{"mail-from", "DIALTONE_MAIL_FROM", "", "sender of welcome and reset mails (default dialtone@{public-host})", &c.MailFrom, false},
		{"trusted-proxy", "DIALTONE_TRUSTED_PROXY", "", "comma-separated proxy addresses whose X-Forwarded-For is trusted", &c.TrustedProxy, false},
		{"log-level", "DIALTONE_LOG_LEVEL", "info", "debug, info, warn or error", &c.LogLevel, false},
		{"metrics-addr", "DIALTONE_METRICS_ADDR", "127.0.0.1:9464", "Prometheus /metrics (and /healthz, /readyz) for a scraper; empty disables", &c.MetricsAddr, false},
		{"metrics-token", "DIALTONE_METRICS_TOKEN", "", "bearer token that also opens /metrics on --http and --https; empty: /metrics is not served there", &c.MetricsToken, true},
		{"backup-dir", "DIALTONE_BACKUP_DIR", "", "write a backup into this directory every --backup-every; empty disables", &c.BackupDir, false},
		{"backup-every", "DIALTONE_BACKUP_EVERY", "24h", "interval of scheduled backups", &c.BackupEvery, false},
		{"backup-keep", "DIALTONE_BACKUP_KEEP", "7", "scheduled backups kept; older ones are removed", &c.BackupKeep, false},
		{"backup-passphrase-file", "DIALTONE_BACKUP_PASSPHRASE_FILE", "", "encrypt scheduled backups with the passphrase on this file's first line", &c.BackupPassphraseFile, false},
		{"backup-plaintext", "DIALTONE_BACKUP_PLAINTEXT", "false", "true: write scheduled backups unencrypted (the master key in clear)", &c.BackupPlaintext, false},
		{"tls-cert", "DIALTONE_TLS_CERT", "", "PEM certificate chain for every TLS listener, reloaded on SIGHUP and on change (default: a private CA under {data}/tls)", &c.TLSCert, false},
		{"tls-key", "DIALTONE_TLS_KEY", "", "PEM key of --tls-cert", &c.TLSKey, false},
		{"acme-domain", "DIALTONE_ACME_DOMAIN", "", "public DNS name to get the certificate for by ACME (reachable from the internet on port 443)", &c.ACMEDomain, false},
		{"acme-email", "DIALTONE_ACME_EMAIL", "", "contact address given to the ACME CA for expiry notices", &c.ACMEEmail, false},
		{"acme-directory", "DIALTONE_ACME_DIRECTORY", "", "ACME directory URL (default Let's Encrypt)", &c.ACMEDirectory, false},
		{"http-conns-per-source", "DIALTONE_HTTP_CONNS_PER_SOURCE", strconv.Itoa(defaultHTTPConnsPerSource), "HTTP connections one client address may hold open; 0: no cap", &c.HTTPConnsPerSource, false},
		{"ldap-conns-per-source", "DIALTONE_LDAP_CONNS_PER_SOURCE", strconv.Itoa(ldapdir.DefaultConnsPerSource), "LDAP connections one client address may hold open; 0: no cap", &c.LDAPConnsPerSource, false},
		{"sip-conns-per-source", "DIALTONE_SIP_CONNS_PER_SOURCE", strconv.Itoa(sip.DefaultTCPConnsPerSource), "SIP-over-TCP connections one client address may hold open; 0: no cap", &c.SIPConnsPerSource, false},
		{"sip-invites-per-source", "DIALTONE_SIP_INVITES_PER_SOURCE", strconv.Itoa(sip.DefaultInvitesPerSource), "new SIP INVITEs one client address may send a second (over it: 503 for ten seconds); 0: no cap", &c.SIPInvitesPerSource, false},
	}
}

// parseServeConfig reads flags, then fills what no flag set from the environment, then from
// the config file (--config or DIALTONE_CONFIG), then defaults.
func parseServeConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := c.options()
	for _, o := range opts {
		fs.StringVar(o.ptr, o.name, "", o.usage+" (env "+o.env+", default "+quoteDefault(o.def)+")")
	}
	configPath := fs.String("config", "", "config file of name = value lines (env DIALTONE_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	file := map[string]string{}
	if *configPath == "" {
		*configPath, _ = lookupEnv("DIALTONE_CONFIG")
	}
	if *configPath != "" {
		var err error
		if file, err = readConfigFile(*configPath, opts); err != nil {
			return c, err
		}
	}
	for _, o := range opts {
		if set[o.name] {
			continue
		}
		if v, ok := lookupEnv(o.env); ok {
			*o.ptr = v
		} else if v, ok := file[o.name]; ok {
			*o.ptr = v
		} else {
			*o.ptr = o.def
		}
	}
	for _, v := range []struct{ name, value string }{{"http-conns-per-source", c.HTTPConnsPerSource},
		{"ldap-conns-per-source", c.LDAPConnsPerSource}, {"sip-conns-per-source", c.SIPConnsPerSource},
		{"sip-invites-per-source", c.SIPInvitesPerSource}} {
		if _, err := connCap(v.value, 0); err != nil {
			return c, fmt.Errorf("--%s: %w", v.name, err)
		}
	}
	if c.PublicHost == "" {
		c.PublicHost = firstNonLoopback()
	}
	if c.MailFrom == "" {
		c.MailFrom = "dialtone@" + c.PublicHost
	}
	return c, nil
}

// byUID picks a listener's default: the well-known port when serve runs as root, one
// an unprivileged user can bind otherwise.
func byUID(root, user string) string {
	if os.Geteuid() == 0 {
		return root
	}
	return user
}

// defaultHTTPS is :443 for root (the port browsers and phones assume), :8443 otherwise.
func defaultHTTPS() string {
	return byUID(":443", ":8443")
}

func quoteDefault(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// readConfigFile reads `name = value` lines; # starts a comment; names are the flag names.
func readConfigFile(path string, opts []option) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	known := map[string]bool{}
	for _, o := range opts {
		known[o.name] = true
	}
	out := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s line %d: want name = value", path, line)
		}
		name, value = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), `"`)
		if !known[name] {
			return nil, fmt.Errorf("config file %s line %d: unknown setting %q", path, line, name)
		}
		out[name] = value
	}
	return out, sc.Err()
}

func firstNonLoopback() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

var errUsage = errors.New("usage")

// dataDirFlag adds --data and --config to the flags of a command that works on the data
// directory beside serve (backup, import-users). The returned function, called after
// parsing, resolves the directory the way serve does: --data, DIALTONE_DATA, the config
// file's data (--config or DIALTONE_CONFIG), then the default.
func dataDirFlag(fs *flag.FlagSet) func() (string, error) {
	data := fs.String("data", "", "data directory (env DIALTONE_DATA, or data in the config file)")
	configPath := fs.String("config", "", "serve's config file, for its data directory (env DIALTONE_CONFIG)")
	return func() (string, error) {
		if *data != "" {
			return *data, nil
		}
		if v, ok := os.LookupEnv("DIALTONE_DATA"); ok && v != "" {
			return v, nil
		}
		var c Config
		opts := c.options()
		path := *configPath
		if path == "" {
			path = os.Getenv("DIALTONE_CONFIG")
		}
		if path != "" {
			file, err := readConfigFile(path, opts)
			if err != nil {
				return "", err
			}
			if v, ok := file["data"]; ok {
				return v, nil
			}
		}
		return opts[0].def, nil // "data" comes first in the option table
	}
}
