package loadgen

// The process pool: starting, configuring, reading and killing worker processes.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spawning: at most maxPending workers may be started but not yet ready, so a few thousand Go
// runtimes do not all boot at once on two cores.
const (
	maxPending   = 64
	stderrTail   = 4 << 10
	workerGOGC   = "50"
	workerMemLim = "48MiB"
)

// proc is one worker process as the coordinator sees it. Fields are owned by RunCell's
// goroutine except stderr, which is safe for concurrent use.
type proc struct {
	idx    int
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailBuffer
	ready  bool
	final  *Message
	eof    bool
	failed string
}

type event struct {
	idx int
	msg Message
	eof bool
	err error
}

func (c *Pool) spawn(i int, cfg WorkerConfig) error {
	cmd := c.command()
	cmd.Env = append(cmd.Environ(), "GOMAXPROCS=1", "GOGC="+workerGOGC, "GOMEMLIMIT="+workerMemLim)
	cmd.SysProcAttr = workerAttr(c.pgid)
	p := &proc{idx: i, cmd: cmd, stderr: &tailBuffer{max: stderrTail}}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: start worker %d: %w", ErrCell, i, err)
	}
	if c.pgid == 0 {
		c.pgid = cmd.Process.Pid
	}
	p.stdin = stdin
	c.procs = append(c.procs, p)
	c.wg.Add(1)
	go c.readWorker(i, stdout)
	return c.configure(p, cfg)
}

// configure sends a worker the config of its next cell and forgets its last one.
func (c *Pool) configure(p *proc, cfg WorkerConfig) error {
	p.ready, p.final = false, nil
	line, _ := json.Marshal(cfg)
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%w: worker %d: send config: %w%s", ErrCell, p.idx, err, p.stderrNote())
	}
	return nil
}

// readWorker turns one worker's stdout into events until EOF. Sends block when the coordinator
// is busy; they never outlive killAll, which drains the channel until every reader is done.
func (c *Pool) readWorker(i int, r io.Reader) {
	defer c.wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for sc.Scan() {
		m, err := DecodeMessage(sc.Bytes())
		c.events <- event{idx: i, msg: m, err: err}
		if err != nil {
			_, _ = io.Copy(io.Discard, r)
			break
		}
	}
	c.events <- event{idx: i, eof: true, err: sc.Err()}
}

// Pool is a set of running worker processes of one backend, kept across the cells that have
// the same worker count so thousands of processes are not respawned for every cell. The zero
// value is not usable; make one with NewPool. A Pool is used by one goroutine at a time (the
// cell running on it); Close must be called when done with it.
type Pool struct {
	command func() *exec.Cmd
	backend string // backend the workers are connected to
	procs   []*proc
	events  chan event
	wg      sync.WaitGroup // stdout readers
	pgid    int
}

// NewPool returns an empty pool that starts workers with command.
func NewPool(command func() *exec.Cmd) *Pool {
	return &Pool{command: command, events: make(chan event, 1024)}
}

// Close kills and reaps every worker and empties the pool (it can be filled again).
func (c *Pool) Close() {
	if c == nil || len(c.procs) == 0 {
		return
	}
	c.killAll()
	c.procs, c.pgid, c.backend = nil, 0, ""
	c.events = make(chan event, 1024)
}

// killAll ends every worker: close stdin (asks them to stop), a short wait, then SIGKILL to the
// group and to each pid, then reap.
func (c *Pool) killAll() {
	for _, p := range c.procs {
		_ = p.stdin.Close()
	}
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	wait := time.NewTimer(3 * time.Second)
	defer wait.Stop()
drain:
	for {
		select {
		case <-c.events:
		case <-done:
			break drain
		case <-wait.C:
			c.signalAll()
		}
	}
	c.signalAll() // stdout closed does not prove the process exited
	for _, p := range c.procs {
		_ = p.cmd.Wait()
	}
}

func (c *Pool) signalAll() {
	if c.pgid > 0 {
		_ = syscall.Kill(-c.pgid, syscall.SIGKILL)
	}
	for _, p := range c.procs {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	}
}

func (p *proc) stderrNote() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return ""
	}
	return "\n--- worker stderr (last " + fmt.Sprint(stderrTail/1024) + " KB) ---\n" + s
}

func (c *coordinator) sampleWorkerMem() {
	var rss, pss, n int64
	for _, p := range c.procs {
		m, err := ReadMem(p.cmd.Process.Pid)
		if err != nil {
			continue
		}
		rss += m.RSS
		pss += m.PSS
		n++
	}
	if n > 0 {
		c.cell.WorkerRSSBytes = rss / n
		c.cell.WorkerPSSBytes = pss / n
	}
}

// tailBuffer keeps the last max bytes written to it. Safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
