package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// dhcpFacts is what the DHCP values are made of: where the tenant's phones fetch their
// files. A running serve answers them over the control socket (its real ports);
// offline they come from serve's flags, environment and config file, and the store.
type dhcpFacts struct {
	Tenant     string `json:"tenant"`
	URL        string `json:"url"`         // the provisioning URL, ending in /
	PublicHost string `json:"public_host"` // as written into phone configs
	TFTPPort   string `json:"tftp_port"`   // "" when TFTP is off
}

// dhcpValues are the option values (RFC 2132 §9.4 option 66; 150 and 160 are
// site-specific codes that Cisco and Poly phones read).
type dhcpValues struct {
	Opt66  string // TFTP server name: the URL (every make Dialtone serves takes a URL here)
	Opt160 string // provisioning URL (Poly reads it before 66)
	Opt150 string // Cisco TFTP server: IPv4 address, "" when none can be named
	Hex150 string // the same as 8 hex digits
	Notes  []string
}

// with150 is s when option 150 has a value, else "": the lines each snippet adds for it.
func (v dhcpValues) with150(s string) string {
	if v.Opt150 == "" {
		return ""
	}
	return s
}

func (f dhcpFacts) values() dhcpValues {
	v := dhcpValues{Opt66: f.URL, Opt160: f.URL}
	host := strings.Trim(f.PublicHost, "[]")
	var ip netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ip = a.Unmap()
	} else if addrs, err := net.LookupHost(host); err == nil {
		for _, s := range addrs {
			if a, err := netip.ParseAddr(s); err == nil && a.Unmap().Is4() {
				ip = a.Unmap()
				break
			}
		}
	}
	switch {
	case !ip.Is4():
		v.Notes = append(v.Notes, "option 150 left out: public host "+f.PublicHost+" has no IPv4 address (option 150 carries IPv4 addresses only)")
	case ip.IsLoopback():
		v.Notes = append(v.Notes, "option 150 left out: public host "+f.PublicHost+" is a loopback address no phone can reach; set --public-host")
	default:
		v.Opt150 = ip.String()
		b := ip.As4()
		v.Hex150 = strings.ToUpper(hex.EncodeToString(b[:]))
	}
	if v.Opt150 != "" {
		switch {
		case f.TFTPPort == "":
			v.Notes = append(v.Notes, "option 150 names a TFTP server, but TFTP is off (--tftp): Cisco phones need 66 or 160 with the URL")
		case f.TFTPPort != "69":
			v.Notes = append(v.Notes, "option 150 names a TFTP server, but TFTP listens on port "+f.TFTPPort+", not 69: phones ask port 69")
		}
		if f.Tenant != store.DefaultTenant {
			v.Notes = append(v.Notes, "option 150 (a bare TFTP server) reaches tenant default only: phones of "+f.Tenant+" need 66 or 160 with the URL, which carries the tenant's token")
		}
	}
	v.Notes = append(v.Notes, "option 43 left out: its encapsulated sub-options differ per make and firmware, and every make Dialtone provisions reads 66 or 160")
	if strings.HasPrefix(f.URL, "http://127.") || strings.HasPrefix(f.URL, "http://localhost") || strings.HasPrefix(f.URL, "http://[::1]") {
		v.Notes = append(v.Notes, "the URL names a loopback host no phone can reach: set --public-host to the address phones see")
	}
	return v
}

// dhcpSnippets renders each DHCP server's configuration for the values, in order.
func dhcpSnippets(v dhcpValues) []struct{ Name, Text string } {
	q := func(s string) string { return `"` + s + `"` }
	hexStr := strings.ToUpper(hex.EncodeToString([]byte(v.Opt160)))
	var out []struct{ Name, Text string }
	add := func(name, text string) { out = append(out, struct{ Name, Text string }{name, text}) }

	isc := "# ISC dhcpd (dhcpd.conf): definitions at the top level, values in a subnet or globally\n" +
		"option dialtone-prov-url code 160 = text;\n" +
		v.with150("option cisco-tftp-server code 150 = array of ip-address;\n") +
		"option tftp-server-name " + q(v.Opt66) + ";\n" +
		"option dialtone-prov-url " + q(v.Opt160) + ";\n" +
		v.with150("option cisco-tftp-server "+v.Opt150+";\n")
	add("ISC dhcpd", isc)

	// Kea: option 66 by its standard name; 150 and 160 have no standard definition, so
	// they go as raw bytes (csv-format false), which Kea accepts for any code.
	kea := []map[string]any{{"name": "tftp-server-name", "code": 66, "data": v.Opt66},
		{"code": 160, "csv-format": false, "data": hexStr}}
	if v.Opt150 != "" {
		kea = append(kea, map[string]any{"code": 150, "csv-format": false, "data": v.Hex150})
	}
	kj, _ := json.MarshalIndent(map[string]any{"option-data": kea}, "", "  ")
	add("Kea (kea-dhcp4.conf, inside Dhcp4 or a subnet4 entry)", string(kj)+"\n")

	dm := "# dnsmasq (dnsmasq.conf)\n" +
		"dhcp-option=66," + q(v.Opt66) + "\n" +
		"dhcp-option=160," + q(v.Opt160) + "\n" +
		v.with150("dhcp-option=150,"+v.Opt150+"\n")
	add("dnsmasq", dm)

	mt := "# MikroTik RouterOS (s'…' is a string, 0x… raw bytes)\n" +
		"/ip dhcp-server option add name=dialtone-66 code=66 value=\"s'" + v.Opt66 + "'\"\n" +
		"/ip dhcp-server option add name=dialtone-160 code=160 value=\"s'" + v.Opt160 + "'\"\n" +
		v.with150("/ip dhcp-server option add name=dialtone-150 code=150 value=0x"+v.Hex150+"\n") +
		"/ip dhcp-server option sets add name=dialtone options=dialtone-66,dialtone-160" + v.with150(",dialtone-150") + "\n" +
		"/ip dhcp-server network set [find] dhcp-option-set=dialtone\n"
	add("MikroTik RouterOS", mt)

	ps := "# Windows DHCP Server (PowerShell, server-wide; add -ScopeId 192.0.2.0 for one scope)\n" +
		"Add-DhcpServerv4OptionDefinition -OptionId 160 -Name \"Provisioning URL\" -Type String\n" +
		v.with150("Add-DhcpServerv4OptionDefinition -OptionId 150 -Name \"Cisco TFTP server\" -Type IPv4Address -MultiValue\n") +
		"Set-DhcpServerv4OptionValue -OptionId 66 -Value " + q(v.Opt66) + "\n" +
		"Set-DhcpServerv4OptionValue -OptionId 160 -Value " + q(v.Opt160) + "\n" +
		v.with150("Set-DhcpServerv4OptionValue -OptionId 150 -Value "+v.Opt150+"\n")
	add("Windows DHCP (PowerShell)", ps)
	return out
}

func writeDHCP(w io.Writer, f dhcpFacts) {
	v := f.values()
	fmt.Fprintf(w, "Tenant %s: phones fetch their files from\n  %s\n\n", f.Tenant, f.URL)
	fmt.Fprintf(w, "option 66  (TFTP server name)        %s\n", v.Opt66)
	fmt.Fprintf(w, "option 160 (provisioning URL, Poly)   %s\n", v.Opt160)
	if v.Opt150 != "" {
		fmt.Fprintf(w, "option 150 (Cisco TFTP server)        %s (hex %s)\n", v.Opt150, v.Hex150)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, s := range dhcpSnippets(v) {
		fmt.Fprintf(w, "\n## %s\n%s", s.Name, s.Text)
	}
}

// dhcpOptionsCommand: dialtone dhcp-options [--tenant SLUG] [serve's flags].
func dhcpOptionsCommand(args []string, stdout, stderr io.Writer) error {
	tenant, rest, err := cutFlag(args, "tenant")
	if err != nil {
		return err
	}
	if tenant == "" {
		tenant = store.DefaultTenant
	}
	cfg, err := parseServeConfig(rest, os.LookupEnv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "dialtone dhcp-options [--tenant SLUG] takes serve's flags (--data, --config, --public-host, --http, --tftp) for the values offline")
		}
		return err
	}
	var f dhcpFacts
	if c, ok := dialControl(cfg.Data); ok { // serve runs: its bound ports are the truth
		defer c.Close()
		if _, err := fmt.Fprintf(c, "dhcp %s\n", tenant); err != nil {
			return err
		}
		r := bufio.NewReader(c)
		if err := readControlStatus(r); err != nil {
			return err
		}
		if err := json.NewDecoder(r).Decode(&f); err != nil {
			return fmt.Errorf("control answer: %w", err)
		}
	} else {
		if _, err := os.Stat(cfg.Data); err != nil {
			return fmt.Errorf("--data %s: %w", cfg.Data, err)
		}
		st, err := store.Open(store.Options{Dir: cfg.Data})
		if err != nil {
			return fmt.Errorf("--data %s: %w", cfg.Data, err)
		}
		defer st.Close()
		t, err := st.Tenant(tenant)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", tenant, err)
		}
		f = offlineDHCPFacts(cfg, t)
	}
	writeDHCP(stdout, f)
	return nil
}

// offlineDHCPFacts builds the facts from serve's configuration, as serve would bind it.
// HTTPS-only tenants need serve's HTTPS port: offline it is the configured one.
func offlineDHCPFacts(cfg Config, t store.Tenant) dhcpFacts {
	host := cfg.PublicHost
	base := "http://" + net.JoinHostPort(host, portOr(cfg.HTTP, "8080"))
	if t.ProvisioningHTTPSOnly && cfg.HTTPS != "" {
		base = "https://" + net.JoinHostPort(host, portOr(cfg.HTTPS, "443"))
	}
	f := dhcpFacts{Tenant: t.Slug, URL: base + "/p/" + t.ProvisioningToken + "/", PublicHost: host}
	if cfg.TFTP != "" {
		f.TFTPPort = portOr(cfg.TFTP, "69")
	}
	return f
}

// dhcpFacts is the control socket's answer to "dhcp SLUG".
func (m *Main) dhcpFacts(slug string) (dhcpFacts, error) {
	t, err := m.store.Tenant(slug)
	if err != nil {
		return dhcpFacts{}, fmt.Errorf("tenant %q: %w", slug, err)
	}
	base := m.publicURL(t.ProvisioningHTTPSOnly)
	f := dhcpFacts{Tenant: t.Slug, URL: base + "/p/" + t.ProvisioningToken + "/", PublicHost: m.cfg.PublicHost}
	if a, ok := m.Addrs["tftp"]; ok {
		f.TFTPPort = portOf(a)
	}
	return f, nil
}

func portOr(addr, def string) string {
	if p := portOf(addr); p != "" && p != "0" {
		return p
	}
	return def
}

// cutFlag takes --name VALUE (or --name=VALUE, one or two dashes) out of args.
func cutFlag(args []string, name string) (string, []string, error) {
	var val string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		trimmed := strings.TrimLeft(a, "-")
		if len(a)-len(trimmed) == 0 || len(a)-len(trimmed) > 2 {
			rest = append(rest, a)
			continue
		}
		if trimmed == name {
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("%w: --%s needs a value", errUsage, name)
			}
			val, i = args[i+1], i+1
			continue
		}
		if v, ok := strings.CutPrefix(trimmed, name+"="); ok {
			val = v
			continue
		}
		rest = append(rest, a)
	}
	return val, rest, nil
}
