package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a server may take to answer, loading its
// append-only file included.
const startTimeout = 20 * time.Second

// process is one redis-server of a test's own, started and restarted on
// one directory and one port.
type process struct {
	dir  string
	args []string

	mu   sync.Mutex
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startProcess starts redis-server on dir with args, on a free port. A
// port found free can be taken before the server binds it, so a start
// that fails is tried again on another port.
func startProcess(t testing.TB, dir string, args ...string) *process {
	t.Helper()
	p := &process{dir: dir, args: args}
	var err error
	for range 5 {
		p.port, err = freePort()
		if err != nil {
			t.Fatalf("redistest: finding a free port: %v", err)
		}
		p.mu.Lock()
		err = p.startLocked()
		p.mu.Unlock()
		if err == nil {
			return p
		}
	}
	t.Fatalf("redistest: starting redis-server: %v", err)
	return nil
}

func (p *process) addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
}

// restart kills the server if it runs and starts it again, on the same
// directory and port. It may run on any goroutine, so it reports a
// failure with t.Errorf, leaving the server down, rather than t.Fatal.
func (p *process) restart(t testing.TB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killLocked()
	if err := p.startLocked(); err != nil {
		t.Errorf("redistest: restarting redis-server: %v", err)
	}
}

func (p *process) startLocked() error {
	args := append([]string{
		"--port", strconv.Itoa(p.port),
		"--bind", "127.0.0.1",
		"--dir", p.dir,
		"--daemonize", "no",
		"--logfile", p.logPath(),
	}, p.args...)
	cmd := exec.Command("redis-server", args...)
	cmd.Dir = p.dir
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	if err := p.waitReady(); err != nil {
		p.killLocked()
		return fmt.Errorf("%w\nredis.log ends with:\n%s", err, p.logTail())
	}
	return nil
}

// waitReady waits until the server answers PING and has loaded its data.
func (p *process) waitReady() error {
	c := redis.NewClient(&redis.Options{
		Addr:         net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)),
		MaxRetries:   -1,
		DialTimeout:  200 * time.Millisecond,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
	})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited: %v", p.cmd.ProcessState)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.Ping(ctx).Err()
		if err == nil {
			var info string
			info, err = c.Info(ctx, "persistence").Result()
			if err == nil && !strings.Contains(info, "loading:0") {
				err = errors.New("still loading")
			}
		}
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not answer within %v: %v", startTimeout, err)
}

// kill kills the server with SIGKILL, as a crash would, and waits for it
// to exit. Killing a server that is not running does nothing.
func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killLocked()
}

func (p *process) killLocked() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// shutdown stops the server with SIGTERM, or SIGKILL when it takes too
// long.
func (p *process) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.killLocked()
	}
}

func (p *process) logPath() string { return filepath.Join(p.dir, "redis.log") }

func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath())
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
