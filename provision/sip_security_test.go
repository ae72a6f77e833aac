package provision

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// A tenant's sip_transport and srtp reach its phones' configs over HTTP: udp and no
// SRTP by default; after the admin picks tls and required, the next fetch names TLS
// (2), the SIP-over-TLS port (5061) and compulsory SRTP (2).
func TestTenantTransportAndSRTPInConfigs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	url := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	fetch := func() string {
		code, body, _ := get(t, url, yealinkUA)
		if code != 200 {
			t.Fatalf("fetch: %d %s", code, body)
		}
		return body
	}
	for _, line := range []string{"account.1.sip_server.1.transport_type = 0", "account.1.sip_server.1.port = 5060",
		"account.1.srtp_encryption = 0"} {
		if body := fetch(); !strings.Contains(body, line+"\n") {
			t.Fatalf("default config lacks %q:\n%s", line, body)
		}
	}
	err := e.st.Update(func(tx *store.Tx) error {
		cur, err := tx.Tenant("acme")
		if err != nil {
			return err
		}
		next := cur
		next.SIPTransport, next.SRTP = "tls", "required"
		return tx.SaveTenant(cur, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	body := fetch()
	for _, line := range []string{"account.1.sip_server.1.transport_type = 2", "account.1.sip_server.1.port = 5061",
		"account.1.outbound_proxy.1.port = 5061", "account.2.sip_server.1.transport_type = 2", "account.1.srtp_encryption = 2"} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("config after tls/required lacks %q", line)
		}
	}
}
