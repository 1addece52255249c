package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DescribeMachine reads where the run happens from /proc/cpuinfo, /proc/meminfo and uname.
// Missing pieces stay empty rather than failing the run.
func DescribeMachine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = procField(b, "model name")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(procField(b, "MemTotal"))
		if len(f) > 0 {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				m.MemBytes = kb * 1024
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(b []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Versions lists the toolchain, wwly's commit, the peer servers and key libraries. The second
// result is wwly's commit alone.
func Versions(ctx context.Context) (map[string]string, string) {
	v := map[string]string{"go": runtime.Version()}
	commit := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			commit = rev + dirty
		}
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/HdrHistogram/hdrhistogram-go", "github.com/panjf2000/gnet/v2",
				"github.com/go-redsync/redsync/v4", "github.com/bsm/redislock",
				"github.com/redis/go-redis/v9", "go.etcd.io/etcd/client/v3", "github.com/gofrs/flock":
				v[d.Path] = d.Version
			}
		}
	}
	if commit == "" {
		commit = firstLine(runTool(ctx, "git", "rev-parse", "HEAD"))
	}
	v["wwly"] = commit
	if s := firstLine(runTool(ctx, "redis-server", "--version")); s != "" {
		v["redis-server"] = s
	}
	if s := firstLine(runTool(ctx, "etcd", "--version")); s != "" {
		v["etcd"] = s
	}
	return v, commit
}

func runTool(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}
