// Package gotier runs the modern Go Kafka clients, franz-go (kgo, kadm) and IBM/sarama, against
// one real Klamm started by TestMain. Every test talks to it over TCP with the real client and
// checks content: offsets, keys, values, headers, error codes.
//
// KLAMM_BIN overrides the broker binary (default <repo>/target/release/klamm);
// KLAMM_TEST_KEEP_DIR=1 keeps the data directory and the broker's stderr.log after the run.
// Run: cd protocol-tests/go && go test -v ./...  (one Klamm for the whole package, see TestMain).
package gotier

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// broker is the one Klamm every test of this package uses.
var broker struct {
	addr    string // host:port of the Kafka listener
	http    string // host:port of the HTTP endpoint
	stderr  string // path of the broker's stderr log
	dataDir string
}

var (
	readyRE = regexp.MustCompile(`klamm listening on (\S+) \(advertised as (\S+)\)`)
	httpRE  = regexp.MustCompile(`klamm http on (\S+) `)
)

// overrides are Klamm settings changed for the tests, only where Kafka's default just waits:
//   - group.initial.rebalance.delay.ms=0: Kafka holds a new classic group's first rebalance 3 s
//     to let more members join; the tests join their members explicitly.
//   - group.consumer.{min.,}heartbeat.interval.ms=500: a KIP-848 member learns of a new
//     assignment at its next heartbeat (Kafka's default 5 s); 500 ms keeps the two-member
//     test short.
//
// and, so that kadm's ACL calls are served (without an authorizer Kafka answers
// SECURITY_DISABLED), Kafka's StandardAuthorizer with the unauthenticated PLAINTEXT principal
// User:ANONYMOUS as super user: every other test is authorized as a super user would be.
var overrides = []string{
	"group.initial.rebalance.delay.ms=0",
	"group.consumer.min.heartbeat.interval.ms=500",
	"group.consumer.heartbeat.interval.ms=500",
	"num.partitions=1",
	"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
	"super.users=User:ANONYMOUS",
}

func klammBin() string {
	if b := os.Getenv("KLAMM_BIN"); b != "" {
		return b
	}
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	// protocol-tests/go -> repository root
	return filepath.Join(wd, "..", "..", "target", "release", "klamm")
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "klamm-go-")
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
	// Hermetic: the broker reads KLAMM_* variables as settings, so none of the caller's
	// (KLAMM_BIN, ...) leak in; only the command line configures it.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KLAMM_") {
			env = append(env, kv)
		}
	}
	// NO_COLOR: plain log lines in the stderr file printed on failure.
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
		// Reads stdout for the broker's whole life so it never blocks on a full pipe.
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			line := sc.Text()
			if h := httpRE.FindStringSubmatch(line); h != nil {
				broker.http = h[1]
			}
			if r := readyRE.FindStringSubmatch(line); r != nil && !once {
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
	// SIGTERM: a clean shutdown exits 0; anything else is a broker bug worth failing on.
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
	return fmt.Sprintf("go-%s-%d", strings.ToLower(name), n)
}

// ctxFor is a test-scoped context with a deadline, so a hung client fails the test rather than
// the whole run.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// complaints collects what a client logs at warning level or above; see strictLogger.
type complaints struct {
	mu    sync.Mutex
	lines []string
}

func (c *complaints) add(s string) {
	c.mu.Lock()
	c.lines = append(c.lines, s)
	c.mu.Unlock()
}

func (c *complaints) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}
