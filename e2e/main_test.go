package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
	"github.com/wwly/wwly/server"
)

// wwlyBin is the wwly binary built once by TestMain.
var wwlyBin string

// roleEnv makes the test binary act as a worker process instead of running tests.
const roleEnv = "WWLY_E2E_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role))
	}
	dir, err := os.MkdirTemp("", "wwly-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	wwlyBin = filepath.Join(dir, "wwly")
	build := exec.Command("go", "build", "-o", wwlyBin, "github.com/wwly/wwly/cmd/wwly")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building wwly:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runRole is the body of a re-executed test binary; its exit status is the result.
func runRole(role string) int {
	var err error
	switch role {
	case "server":
		err = roleServer()
	case "worker":
		err = roleWorker()
	case "holder":
		err = roleHolder()
	case "cycler":
		err = roleCycler()
	case "prim":
		err = rolePrim()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	return 0
}

// roleServer runs an in-process server until SIGTERM; used only when `wwly serve` cannot be.
func roleServer() error {
	cfg := server.DefaultConfig()
	cfg.Addr = os.Getenv("WWLY_E2E_ADDR")
	cfg.DataDir = os.Getenv("WWLY_E2E_DATADIR")
	cfg.UnsafeTokens = cfg.DataDir == ""
	if tok := os.Getenv("WWLY_E2E_AUTH"); tok != "" {
		cfg.AuthToken = []byte(tok)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// dialEnv dials the server named by WWLY_ADDR (and WWLY_AUTH_TOKEN), as the CLI does.
func dialEnv() (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var opts []client.Option
	if tok := os.Getenv("WWLY_AUTH_TOKEN"); tok != "" {
		opts = append(opts, client.WithAuthToken([]byte(tok)))
	}
	return client.Dial(ctx, os.Getenv("WWLY_ADDR"), opts...)
}

// roleHolder takes WWLY_E2E_NAME, prints "HELD <token>" or, when it had to wait,
// "GRANTED <unix ns>", then sleeps until killed (or for WWLY_E2E_HOLD).
func roleHolder() error {
	c, err := dialEnv()
	if err != nil {
		return err
	}
	defer c.Close()
	m := c.Mutex(os.Getenv("WWLY_E2E_NAME"))
	if err := m.LockContext(context.Background()); err != nil {
		return err
	}
	fmt.Printf("GRANTED %d %d\n", time.Now().UnixNano(), m.Token())
	hold, _ := time.ParseDuration(os.Getenv("WWLY_E2E_HOLD"))
	if hold == 0 {
		hold = time.Minute
	}
	time.Sleep(hold)
	m.Unlock()
	return nil
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a started child process that is killed and reaped when the test ends.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // the Wait error, valid after done
	stdout *lineBuf
}

// start runs cmd with its stdout captured line by line and stderr going to the test log.
func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, done: make(chan struct{}), stdout: newLineBuf()}
	cmd.Stdout = p.stdout
	cmd.Stderr = &testLogWriter{t: t, prefix: filepath.Base(cmd.Path)}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.stdout.close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits up to d for the process to exit and returns its exit code (-1 when killed).
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%v did not exit within %v", p.cmd.Args, d)
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatalf("%v: %v", p.cmd.Args, p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// selfCmd re-executes the test binary in a role.
func selfCmd(role string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	return cmd
}

// wwlyCmd runs the wwly binary against addr.
func wwlyCmd(addr string, args ...string) *exec.Cmd {
	cmd := exec.Command(wwlyBin, args...)
	cmd.Env = append(os.Environ(), "WWLY_ADDR="+addr)
	return cmd
}

// serverProc is a wwly server process on a fixed address, restartable.
type serverProc struct {
	addr, dataDir, auth string
	args                []string // extra `wwly serve` flags
	p                   *proc
}

// startServerProc starts a server process and waits until it accepts connections. A port picked
// here can be taken by someone else before the server binds it (other tests run in parallel on
// this box), so an early exit is retried a few times: on a fresh port when the address was ours
// to pick, on the same one (a restart) otherwise.
func startServerProc(t *testing.T, s *serverProc) {
	t.Helper()
	pick := s.addr == ""
	for attempt := 1; ; attempt++ {
		if pick {
			s.addr = freeAddr(t)
		}
		err := tryStartServer(t, s)
		if err == nil {
			return
		}
		if attempt == 5 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; retrying", attempt, err)
		time.Sleep(100 * time.Millisecond)
	}
}

func tryStartServer(t *testing.T, s *serverProc) error {
	var cmd *exec.Cmd
	if serveWorks() {
		if s.dataDir == "" {
			s.dataDir = t.TempDir() // kept for restarts; never the default dir under $HOME
		}
		args := []string{"serve", "--addr", s.addr, "--data-dir", s.dataDir}
		args = append(args, s.args...)
		cmd = exec.Command(wwlyBin, args...)
		cmd.Env = os.Environ()
		if s.auth != "" {
			cmd.Env = append(cmd.Env, "WWLY_AUTH_TOKEN="+s.auth)
		}
	} else {
		cmd = selfCmd("server", "WWLY_E2E_ADDR="+s.addr, "WWLY_E2E_DATADIR="+s.dataDir, "WWLY_E2E_AUTH="+s.auth)
	}
	s.p = start(t, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.p.done:
			return fmt.Errorf("server on %s exited early: %v", s.addr, s.p.err)
		default:
		}
		conn, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			conn.Close()
			// Connected — but to our server? It may have lost the bind race to another process.
			select {
			case <-s.p.done:
				return fmt.Errorf("server on %s exited early: %v", s.addr, s.p.err)
			case <-time.After(20 * time.Millisecond):
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server on %s not accepting: %v", s.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill SIGKILLs the server process and reaps it.
func (s *serverProc) kill(t *testing.T) {
	t.Helper()
	_ = s.p.cmd.Process.Signal(syscall.SIGKILL)
	s.p.wait(t, 10*time.Second)
}

var serveChecked, serveOK bool

// serveWorks reports whether `wwly serve` is implemented in this build (it is being written in
// parallel with these tests); until it is, a re-executed test binary serves instead.
func serveWorks() bool {
	if !serveChecked {
		serveChecked = true
		out, _ := exec.Command(wwlyBin, "serve", "--help").CombinedOutput()
		serveOK = strings.Contains(string(out), "--data-dir")
	}
	return serveOK
}

// dialT dials a Go client closed at the end of the test.
func dialT(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pidAlive reports whether pid is a live (not zombie) process.
func pidAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}
