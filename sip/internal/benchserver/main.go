// Command benchserver runs the registrar alone over a store (in memory, or on disk with
// -dir) holding N extensions, and writes a SIPp injection file with their credentials,
// for the register-auth benchmark against Kamailio (../shared/bench/sipp/register-auth.xml).
// -cpuprofile, -memprofile and -mutexprofile profile the load, not the set-up:
//
//	go run ./sip/internal/benchserver -dir /tmp/bs -cpuprofile /tmp/cpu.prof &
//	sipp -sf ../shared/bench/sipp/register-auth.xml -inf /tmp/dialtone-users.csv -r 10000 -m 100000 \
//	  -i 127.0.0.1 -buff_size 4194304 127.0.0.1:5070
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
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5070", "UDP address")
	n := flag.Int("n", 10000, "extensions")
	users := flag.String("users", "/tmp/dialtone-users.csv", "SIPp injection file to write")
	digest := flag.String("digest", store.DefaultSIPDigest, "the tenant's sip_digest: "+strings.Join(store.SIPDigests, " | "))
	dir := flag.String("dir", "", "data directory (default: an in-memory store)")
	readers := flag.Int("readers", 0, "goroutines reading the UDP socket (default 1)")
	stats := flag.Duration("stats", 0, "log RSS, heap and bindings this often (0: never)")
	tcp := flag.Bool("tcp", false, "serve TCP on the same address too (as dialtone serve does)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile here until interrupted")
	memprof := flag.String("memprofile", "", "write an allocation profile here when interrupted")
	mutexprof := flag.String("mutexprofile", "", "write a mutex contention profile here when interrupted")
	flag.Parse()
	st, err := store.Open(store.Options{Dir: *dir})
	if err != nil {
		log.Fatal(err)
	}
	err = st.Update(func(tx *store.Tx) error {
		t, err := tx.CreateTenant(store.NewTenant{Slug: "default", SIPDomain: "bench.example", ExtMin: 1000, ExtMax: 99999})
		if err != nil {
			return err
		}
		next := t
		next.SIPDigest = *digest
		return tx.SaveTenant(t, next)
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
	srv, err := sip.New(sip.Config{Store: st, PublicHost: "127.0.0.1", Readers: *readers,
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
	// Profiles cover the load only, not the set-up above.
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *mutexprof != "" {
		runtime.SetMutexProfileFraction(5)
		defer writeProfile("mutex", *mutexprof)
	}
	if *memprof != "" {
		defer writeProfile("allocs", *memprof)
	}
	log.Printf("ready on %s, %d extensions", *addr, *n)
	if *stats > 0 {
		go logStats(srv, *stats)
	}
	if *tcp {
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			log.Fatal(err)
		}
		go srv.ServeTCP(ctx, l)
	}
	if err := srv.ServeUDP(ctx, pc); err != nil {
		log.Fatal(err)
	}
	srv.Close()
	log.Printf("bindings: %d", len(srv.Registrations("default")))
}

func writeProfile(name, path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	pprof.Lookup(name).WriteTo(f, 0)
}

// logStats logs the resident set, the Go heap and the number of bindings every d.
func logStats(srv *sip.Server, d time.Duration) {
	for range time.Tick(d) {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS") {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				log.Printf("%s, heap in use %d MiB, sys %d MiB, bindings %d", strings.Join(strings.Fields(l), " "),
					ms.HeapInuse>>20, ms.Sys>>20, len(srv.Registrations("default")))
			}
		}
	}
}
