// Package sarama122 runs sarama 1.22 (github.com/Shopify/sarama v1.22.1, what Debian still ships
// as golang-github-shopify-sarama-dev) against one real Klamm started by TestMain. sarama 1.22
// commits offsets with OffsetCommit v1, fetches them with OffsetFetch v1, describes configs with
// DescribeConfigs v0 and, below Config.Version 0.11, creates topics with CreateTopics v0: versions
// Kafka 4.0 removed (KIP-896) and Klamm serves by default (klamm.compat.kafka.version "").
//
// It is its own Go module because sarama 1.22 and the modern IBM/sarama of protocol-tests/go
// cannot share one build list; the broker start-up is a copy of protocol-tests/go's TestMain
// (test files of another module cannot be imported).
//
// KLAMM_BIN overrides the broker binary (default <repo>/target/release/klamm);
// KLAMM_TEST_KEEP_DIR=1 keeps the data directory and the broker's stderr.log after the run.
// Run: cd protocol-tests/go/sarama122 && go test -v ./...
package sarama122

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// broker is the one Klamm every test of this package uses.
var broker struct {
	addr    string // host:port of the Kafka listener
	stderr  string // path of the broker's stderr log
	dataDir string
}

var readyRE = regexp.MustCompile(`klamm listening on (\S+) \(advertised as (\S+)\)`)

// overrides: a new classic group's first rebalance completes at once (Kafka waits 3 s for more
// members); everything else is Kafka's default, including the wide version ranges.
var overrides = []string{
	"group.initial.rebalance.delay.ms=0",
	"num.partitions=1",
}

func klammBin() string {
	if b := os.Getenv("KLAMM_BIN"); b != "" {
		return b
	}
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	// protocol-tests/go/sarama122 -> repository root
	return filepath.Join(wd, "..", "..", "..", "target", "release", "klamm")
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "klamm-sarama122-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("KLAMM_TEST_KEEP_DIR") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("klamm data and stderr kept in", dir)
	}
	broker.dataDir = filepath.Join(dir, "data")
	broker.stderr = filepath.Join(dir, "stderr.log")
	bin := klammBin()
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(os.Stderr, "klamm binary not found at %s (cargo build --release, or KLAMM_BIN): %v\n", bin, err)
		return 1
	}
	args := []string{"serve", "--data-dir", broker.dataDir, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"}
	for _, o := range overrides {
		args = append(args, "--override", o)
	}
	cmd := exec.Command(bin, args...)
	// Hermetic: the broker reads KLAMM_* variables as settings, so none of the caller's leak in.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KLAMM_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "RUST_BACKTRACE=1", "NO_COLOR=1")
	errf, err := os.Create(broker.stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer errf.Close()
	cmd.Stderr = errf
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			if r := readyRE.FindStringSubmatch(sc.Text()); r != nil && !once {
				broker.addr = r[2]
				once = true
				close(ready)
			}
		}
		if !once {
			close(ready)
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
	}
	if broker.addr == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tail, _ := os.ReadFile(broker.stderr)
		fmt.Fprintf(os.Stderr, "klamm did not start:\n%s\n", tail)
		return 1
	}
	code := m.Run()
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "klamm exited badly: %v\n", err)
			code = 1
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		fmt.Fprintln(os.Stderr, "klamm did not stop within 20s of SIGINT")
		code = 1
	}
	if code != 0 {
		tail, _ := os.ReadFile(broker.stderr)
		if len(tail) > 8000 {
			tail = tail[len(tail)-8000:]
		}
		fmt.Fprintf(os.Stderr, "---- klamm stderr (tail) ----\n%s\n", tail)
	}
	return code
}

var topicSeq atomic.Int64

// topicName gives every test its own topic (one broker serves the whole package).
func topicName(t *testing.T) string {
	n := topicSeq.Add(1)
	name := strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
	return fmt.Sprintf("s122-%s-%d", strings.ToLower(name), n)
}
