package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a server gets between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// readyTimeout bounds every readiness wait: a server that is not serving by then is broken, and
// the run must say so rather than hang.
const readyTimeout = 30 * time.Second

// errServerExited reports a server process that died before it became ready.
var errServerExited = errors.New("bench: server exited early")

// lookBinary finds a server binary in PATH, or returns an error wrapping ErrUnavailable that
// tells the operator how to get it.
func lookBinary(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found in PATH; run scripts/deps.sh", ErrUnavailable, name)
	}
	return p, nil
}

// freePort asks the kernel for a free loopback TCP port. The port is released before the server
// binds it, so a race with another process is possible; callers retry the start on failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var nofileOnce sync.Once

// raiseNofile lifts this process's soft open-file limit to the hard limit through
// syscall.Setrlimit, which also makes children inherit it. Go raises its own soft limit at start
// but hands children the original (often 1024), and a server facing thousands of workers — Redis
// with --maxclients 20000, etcd, wwly — needs one fd per worker. Best effort: on failure the
// server reports its own limit.
func raiseNofile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// serverProc is a child server process in its own process group, so that its RSS is measurable
// on its own and a stop reaches anything it spawned.
//
// Stop is safe to call more than once and from several goroutines.
type serverProc struct {
	name string
	cmd  *exec.Cmd
	log  string // path of the file holding the process's stdout and stderr

	done    chan struct{} // closed when the process has been waited for
	waitErr error         // valid after done is closed

	stopOnce sync.Once
	stopErr  error
}

// startProc starts path with args in its own process group. Its stdout and stderr are copied to
// dir/<name>.log; when onLine is non-nil every output line is also passed to it (from one
// goroutine, in order) — that is how a server's announced address is learned.
func startProc(name, path string, args []string, dir string, onLine func(string)) (*serverProc, error) {
	nofileOnce.Do(raiseNofile)
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("bench: %s pipe: %w", name, err)
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		logFile.Close()
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	pw.Close() // the child holds its own copy; EOF on pr means the child (group) closed it
	p := &serverProc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		defer logFile.Close()
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = io.WriteString(logFile, line+"\n")
			if onLine != nil {
				onLine(line)
			}
		}
		_, _ = io.Copy(logFile, pr) // an over-long line ends the scanner; keep the rest anyway
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the server's process id (also its process group id).
func (p *serverProc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *serverProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the last lines of the server's log, for error messages.
func (p *serverProc) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, " | ")
}

// Stop sends SIGTERM to the process group, then SIGKILL after stopGrace, and waits for the
// process. A server that was killed by our own SIGTERM is a clean stop.
func (p *serverProc) Stop() error {
	p.stopOnce.Do(func() {
		pgid := p.pid()
		if !p.exited() {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
		}
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// Anything the server spawned in its group goes too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if p.waitErr != nil && !isSignalExit(p.waitErr) {
			p.stopErr = fmt.Errorf("bench: %s: %w", p.name, p.waitErr)
		}
	})
	return p.stopErr
}

// isSignalExit reports an exit caused by SIGTERM or SIGKILL, which Stop itself sent.
func isSignalExit(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGKILL)
}

// waitReady calls probe until it succeeds, the process dies, ctx ends or readyTimeout passes.
// It polls with a short, growing interval: readiness is a one-off at start, not a hot path.
func (p *serverProc) waitReady(ctx context.Context, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	delay := 5 * time.Millisecond
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = probe(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w: %s: %v; log: %s", errServerExited, p.name, p.waitErr, p.tail())
		case <-ctx.Done():
			return fmt.Errorf("bench: %s not ready: %w (last probe: %v); log: %s", p.name, ctx.Err(), last, p.tail())
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// parseListenAddr extracts HOST:PORT from a slog line announcing the listening address, in text
// form (`... msg=listening addr=127.0.0.1:1977`) or JSON form (`{"msg":"listening","addr":"..."}`).
// ok is false when the line is not such an announcement or the address is not HOST:PORT.
func parseListenAddr(line string) (addr string, ok bool) {
	if !strings.Contains(line, "listening") {
		return "", false
	}
	var v string
	if i := strings.Index(line, `"addr":"`); i >= 0 {
		rest := line[i+len(`"addr":"`):]
		j := strings.IndexByte(rest, '"')
		if j < 0 {
			return "", false
		}
		v = rest[:j]
	} else {
		i := strings.Index(line, "addr=")
		if i < 0 || (i > 0 && line[i-1] != ' ') {
			return "", false
		}
		rest := line[i+len("addr="):]
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			rest = rest[:j]
		}
		v = strings.Trim(rest, `"`)
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", false
	}
	return v, true
}

// dialProbe is a readiness probe that succeeds once addr accepts TCP connections.
func dialProbe(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// procInstance is an Instance backed by at most one server process.
type procInstance struct {
	env  Env
	proc *serverProc // nil when the server was given (opts.Addrs) or runs in-process
	stop func() error
}

func (i *procInstance) Env() Env { return i.env }

func (i *procInstance) ServerPID() int {
	if i.proc == nil {
		return 0
	}
	return i.proc.pid()
}

func (i *procInstance) Stop() error {
	var errs []error
	if i.stop != nil {
		errs = append(errs, i.stop())
	}
	if i.proc != nil {
		errs = append(errs, i.proc.Stop())
	}
	return errors.Join(errs...)
}

// startAttempts is how many times a server start is retried when its port was taken meanwhile.
const startAttempts = 3
