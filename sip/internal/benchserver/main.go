// Command benchserver runs the registrar alone over an in-memory store holding N
// extensions, and writes a SIPp injection file with their credentials, for the
// register-auth benchmark against Kamailio (../shared/bench/sipp/register-auth.xml).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5070", "UDP address")
	n := flag.Int("n", 10000, "extensions")
	users := flag.String("users", "/tmp/dialtone-users.csv", "SIPp injection file to write")
	algs := flag.String("alg", "SHA-256,MD5", "digest algorithms offered, in order")
	flag.Parse()
	st, err := store.Open(store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	err = st.Update(func(tx *store.Tx) error {
		_, err := tx.CreateTenant(store.NewTenant{Slug: "default", SIPDomain: "bench.example", ExtMin: 1000, ExtMax: 99999})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < *n; i += 1000 {
		err := st.Update(func(tx *store.Tx) error {
			for j := i; j < min(i+1000, *n); j++ {
				if _, _, err := tx.CreateUser("default", store.NewUser{FirstName: "U", LastName: strconv.Itoa(j),
					Email: fmt.Sprintf("u%d@bench.example", j), Role: store.RoleUser, Extensions: []string{strconv.Itoa(1000 + j)}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for j := 0; j < *n; j++ {
		e, err := st.Extension("default", strconv.Itoa(1000+j))
		if err != nil {
			log.Fatal(err)
		}
		pw, _ := st.SIPPassword(e)
		fmt.Fprintf(&b, "%s;bench.example;[authentication username=%s password=%s]\n", e.SIPUsername, e.SIPUsername, pw)
	}
	if err := os.WriteFile(*users, []byte(b.String()), 0o600); err != nil {
		log.Fatal(err)
	}
	srv, err := sip.New(sip.Config{Store: st, PublicHost: "127.0.0.1", Algorithms: strings.Split(*algs, ","),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		log.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log.Printf("ready on %s, %d extensions", *addr, *n)
	if err := srv.ServeUDP(ctx, pc); err != nil {
		log.Fatal(err)
	}
	srv.Close()
	log.Printf("bindings: %d", len(srv.Registrations("default")))
}
