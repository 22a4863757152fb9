package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of start and stop (the make targets use them).
const (
	DefaultPIDFile = ".localcloud.pid"
	DefaultLogFile = ".localcloud.log"
)

// daemonFiles are the files start writes and stop removes.
type daemonFiles struct{ pid, env, log string }

// startCmd runs this binary in the background (its own session, so no
// terminal signal reaches it and stop can end its whole process group),
// output to the log file, and returns once it is ready: its env file is
// written. serveArgs are the flags of the foreground mode.
func startCmd(f daemonFiles, serveArgs []string, timeout time.Duration, stdout io.Writer) error {
	if pid, ok := runningPID(f.pid); ok {
		return fmt.Errorf("the local cloud already runs (pid %d, %s); stop it first: make local-down", pid, f.pid)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	os.Remove(f.env)
	logf, err := os.OpenFile(f.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(self, append([]string{"-env-file", f.env}, serveArgs...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(f.pid, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(timeout)
	for {
		select {
		case err := <-exited:
			os.Remove(f.pid)
			return fmt.Errorf("the local cloud exited during start (%v); its output, %s:\n%s", err, f.log, tail(f.log))
		case <-deadline:
			stopPID(cmd.Process.Pid, 5*time.Second)
			os.Remove(f.pid)
			return fmt.Errorf("the local cloud was not ready after %s; its output, %s:\n%s", timeout, f.log, tail(f.log))
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := os.Stat(f.env); err == nil {
			fmt.Fprintf(stdout, "local cloud running: pid %d, endpoints in %s, output in %s\n", cmd.Process.Pid, f.env, f.log)
			return cmd.Process.Release()
		}
	}
}

// stopCmd stops the cloud start left running: SIGTERM (it closes its
// function processes), then SIGKILL to its process group after timeout;
// the pid and env files are removed. Nothing running is not an error.
func stopCmd(f daemonFiles, timeout time.Duration, stdout io.Writer) error {
	pid, ok := runningPID(f.pid)
	if !ok {
		os.Remove(f.pid)
		os.Remove(f.env)
		fmt.Fprintln(stdout, "local cloud not running")
		return nil
	}
	if err := stopPID(pid, timeout); err != nil {
		return err
	}
	os.Remove(f.pid)
	os.Remove(f.env)
	fmt.Fprintf(stdout, "local cloud stopped (pid %d)\n", pid)
	return nil
}

func stopPID(pid int, timeout time.Duration) error {
	syscall.Kill(pid, syscall.SIGTERM)
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !alive(pid) {
			syscall.Kill(-pid, syscall.SIGKILL) // anything left in its group
			return nil
		}
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !alive(pid) {
			return nil
		}
	}
	return fmt.Errorf("the local cloud (pid %d) did not stop", pid)
}

// runningPID reads the pid file and reports whether that process lives.
func runningPID(file string) (int, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid)
}

// alive: the process exists and is not a zombie (a stopped daemon whose
// parent is gone may linger as one until reaped).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	return len(f) == 0 || f[0] != "Z"
}

func tail(file string) string {
	b, _ := os.ReadFile(file)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
