package store

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary play the crashing writer: with DIALTONE_CRASH_DIR set it
// writes users until killed, printing the id of each write the store acknowledged.
func TestMain(m *testing.M) {
	if dir := os.Getenv("DIALTONE_CRASH_DIR"); dir != "" {
		crashWriter(dir)
		return
	}
	os.Exit(m.Run())
}

func crashWriter(dir string) {
	s, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	if _, _, err := s.Bootstrap("crash test password"); err != nil {
		fmt.Println("bootstrap:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		var u User
		err := s.Update(func(tx *Tx) (err error) {
			u, _, err = tx.CreateUser(DefaultTenant, NewUser{FirstName: "Crash", LastName: fmt.Sprint(i)})
			return err
		})
		if err != nil {
			fmt.Fprintln(out, "error:", err)
			out.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(out, u.ID, u.Extensions[0]) // acknowledged: only now may a client know
		out.Flush()
	}
}

// TestCrashKeepsAcknowledgedWrites kills a writer with SIGKILL mid-stream and checks that
// every write it acknowledged is in the reopened store, with its indexes.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DIALTONE_CRASH_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]string{}
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() && len(acked) < 300 && time.Now().Before(deadline) {
		id, ext, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("writer: %s", sc.Text())
		}
		acked[id] = ext
	}
	cmd.Process.Signal(syscall.SIGKILL)
	// Lines already written before the kill are acknowledged too.
	for sc.Scan() {
		if id, ext, ok := strings.Cut(sc.Text(), " "); ok {
			acked[id] = ext
		}
	}
	cmd.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	err = s.View(func(tx *Tx) error {
		for id, ext := range acked {
			if _, err := tx.User(DefaultTenant, id); err != nil {
				t.Errorf("acknowledged user %s lost: %v", id, err)
			}
			e, err := tx.Extension(DefaultTenant, ext)
			if err != nil || e.UserID != id {
				t.Errorf("acknowledged extension %s of %s lost: %v", ext, id, err)
			}
			if _, err := s.SIPPassword(e); err != nil {
				t.Errorf("SIP password of %s unreadable after restart: %v", ext, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
}
