// benchserver runs the provisioning service alone on an in-memory store with N
// Yealink phones in tenant "default" (MACs 001565000000 + i, as the peers in
// ../shared/bench use), for side-by-side runs against nginx and tftpd-hpa:
//
//	go run ./provision/internal/benchserver -http 127.0.0.1:18080 -tftp 127.0.0.1:16969
//
// It prints the provisioning token, then serves until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"

	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/store"
)

func main() {
	httpAddr := flag.String("http", "127.0.0.1:18080", "HTTP listen address")
	tftpAddr := flag.String("tftp", "127.0.0.1:16969", "TFTP listen address")
	n := flag.Int("phones", 1000, "phones")
	prof := flag.String("cpuprofile", "", "write a CPU profile here until interrupted")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	st, err := store.Open(store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var tenant store.Tenant
	err = st.Update(func(tx *store.Tx) error {
		if tenant, err = tx.CreateTenant(store.NewTenant{Slug: "default", Name: "Default", SIPDomain: "pbx.test", Timezone: "Europe/Amsterdam"}); err != nil {
			return err
		}
		for i := 0; i < *n; i++ {
			u, _, err := tx.CreateUser("default", store.NewUser{FirstName: "User", LastName: fmt.Sprint(i), Role: store.RoleUser,
				Extensions: []string{fmt.Sprint(1000 + i)}})
			if err != nil {
				return err
			}
			if _, err := tx.CreatePhone(store.Phone{MAC: fmt.Sprintf("%012x", 0x001565000000+i), Tenant: "default", Model: "T46U", UserID: u.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	ua, err := net.ResolveUDPAddr("udp", *tftpAddr)
	if err != nil {
		log.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		log.Fatal(err)
	}
	p, err := provision.New(provision.Config{Store: st, BaseURL: "http://" + ln.Addr().String(), PublicHost: "pbx.test"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	fmt.Println(tenant.ProvisioningToken)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go p.ServeTFTP(ctx, udp)
	if err := p.ServeHTTP(ctx, ln); err != nil {
		log.Fatal(err)
	}
}
