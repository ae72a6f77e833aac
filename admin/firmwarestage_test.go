package admin

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// fetchAs is phone mac asking for a file over HTTP with its own User-Agent.
func (pe *provEnv) fetchAs(mac, file string) (int, string) {
	pe.t.Helper()
	req, _ := http.NewRequest("GET", pe.phoneURL+"/p/"+pe.token+"/"+file, nil)
	req.Header.Set("User-Agent", benchUA+" "+mac)
	resp, err := pe.client.Do(req)
	if err != nil {
		pe.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// firmwareURL is the static.firmware.url a phone's Yealink config names ("" none).
func (pe *provEnv) firmwareURL(mac string) string {
	pe.t.Helper()
	st, cfg := pe.fetchAs(mac, mac+".cfg")
	if st != 200 {
		pe.t.Fatalf("config of %s: %d", mac, st)
	}
	for _, l := range strings.Split(cfg, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "static.firmware.url" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestFirmwareStageRolloutRollback: an upload for a model without a target offers to
// make it one, and target=true does; a staged image reaches the listed MACs only (the
// others keep the target), then a percentage chosen by MAC hash; the provisioning log
// names who fetched which image; rollout gives everyone the image, rollback goes back.
func TestFirmwareStageRolloutRollback(t *testing.T) {
	pe := newProvEnv(t)
	tok := pe.adminToken()
	macs := make([]string, 20)
	for i := range macs {
		macs[i] = fmt.Sprintf("0015650000%02x", i+1)
		u := pe.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "P", "last_name": fmt.Sprint(i),
			"extensions": []string{fmt.Sprint(401 + i)}}).json(t)
		pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": macs[i], "model": "T46U", "user_id": u["id"]})
	}
	fwURL := func(name string) string { return pe.phoneURL + "/p/" + pe.token + "/fw/" + name }

	// No target yet: the upload says how to make it one.
	up := pe.must(201, tok, "POST", "/api/v1/tenants/default/firmware?name=old.rom&model=T46U&version=1", []byte("old image")).json(t)
	if offer, _ := up["offer"].(string); !strings.Contains(offer, "target=true") || len(up["target_of"].([]any)) != 0 {
		t.Fatalf("upload without a target: %v", up)
	}
	if pe.firmwareURL(macs[0]) != "" {
		t.Fatal("a firmware URL before any target")
	}
	pe.must(400, tok, "POST", "/api/v1/tenants/default/firmware?name=x.rom&target=true", []byte("x"))
	up = pe.must(201, tok, "POST", "/api/v1/tenants/default/firmware?name=cur.rom&model=T46U&version=2&target=true", []byte("current image")).json(t)
	if tg := up["target_of"].([]any); len(tg) != 1 || tg[0] != "T46U" {
		t.Fatalf("target=true: %v", up)
	}
	if got := pe.firmwareURL(macs[0]); got != fwURL("cur.rom") {
		t.Fatalf("after target=true: %q", got)
	}
	// A model with a target: the next upload offers staging.
	up = pe.must(201, tok, "POST", "/api/v1/tenants/default/firmware?name=new.rom&model=T46U&version=3", []byte("new image")).json(t)
	if offer, _ := up["offer"].(string); !strings.Contains(offer, "/firmware/stage") {
		t.Fatalf("upload with a target: %v", up)
	}

	// Stage for two MACs.
	pe.must(400, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/stage", map[string]any{"firmware": "new.rom"})
	pe.must(400, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/stage", map[string]any{"firmware": "new.rom", "macs": []string{"001565ffffff"}})
	pe.must(400, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/stage", map[string]any{"firmware": "new.rom", "percent": 101})
	pe.must(409, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/rollout", nil)
	m := pe.must(200, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/stage",
		map[string]any{"firmware": "new.rom", "macs": []string{macs[0], strings.ToUpper(macs[1])}}).json(t)
	if st, _ := m["stage"].(map[string]any); st == nil || st["firmware"] != "new.rom" || m["firmware"] != "cur.rom" {
		t.Fatalf("stage answer: %v", m)
	}
	for i, mac := range macs {
		want := fwURL("cur.rom")
		if i < 2 {
			want = fwURL("new.rom")
		}
		if got := pe.firmwareURL(mac); got != want {
			t.Errorf("staged by MAC: %s has %q, want %q", mac, got, want)
		}
	}
	// The common file keeps the target.
	if _, common := pe.fetch("y000000000028.cfg"); strings.Contains(common, "new.rom") {
		t.Errorf("the common file names the staged image")
	}
	pe.must(409, tok, "DELETE", "/api/v1/tenants/default/firmware/new.rom", nil)

	// A staged phone fetches the image: the provisioning log says who and which.
	if st, body := pe.fetchAs(macs[0], "fw/new.rom"); st != 200 || body != "new image" {
		t.Fatalf("image fetch: %d %q", st, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		items := pe.must(200, tok, "GET", "/api/v1/tenants/default/provisioning-log", nil).json(t)["items"].([]any)
		found := false
		for _, it := range items {
			e := it.(map[string]any)
			if e["file"] == "fw/new.rom" && e["mac"] == macs[0] && e["image"] == "new.rom" && e["image_version"] == "3" && e["firmware"] == "108.86.0.20" {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log entry naming %s and new.rom 3: %v", macs[0], items)
		}
		time.Sleep(20 * time.Millisecond) // the log is written in batches: poll with a deadline
	}

	// A percentage: the phones the MAC hash picks, stably, some in and some out.
	pe.must(200, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/stage", map[string]any{"firmware": "new.rom", "percent": 50})
	rule := store.ModelProfile{StageFirmware: "new.rom", StagePercent: 50}
	in := 0
	for _, mac := range macs {
		want := fwURL("cur.rom")
		if rule.StagedMAC(mac) {
			want, in = fwURL("new.rom"), in+1
		}
		if got := pe.firmwareURL(mac); got != want {
			t.Errorf("staged by percent: %s has %q, want %q", mac, got, want)
		}
	}
	if in == 0 || in == len(macs) {
		t.Errorf("50%% of 20 phones staged %d", in)
	}

	// Rollout: everyone; rollback: back to the previous target.
	m = pe.must(200, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/rollout", nil).json(t)
	if m["firmware"] != "new.rom" || m["previous_firmware"] != "cur.rom" || m["stage"] != nil {
		t.Fatalf("rollout answer: %v", m)
	}
	for _, mac := range macs {
		if got := pe.firmwareURL(mac); got != fwURL("new.rom") {
			t.Errorf("after rollout %s has %q", mac, got)
		}
	}
	pe.must(200, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/rollback", nil)
	for _, mac := range macs {
		if got := pe.firmwareURL(mac); got != fwURL("cur.rom") {
			t.Errorf("after rollback %s has %q", mac, got)
		}
	}
	// A stage dropped by rollback leaves the target alone.
	pe.must(200, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/stage", map[string]any{"firmware": "new.rom", "macs": []string{macs[3]}})
	pe.must(200, tok, "POST", "/api/v1/tenants/default/models/T46U/firmware/rollback", nil)
	if got := pe.firmwareURL(macs[3]); got != fwURL("cur.rom") {
		t.Errorf("after the stage's rollback: %q", got)
	}
}
