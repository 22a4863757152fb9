package fcrt

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group (so that it and its
// own children can be killed together) and kills it if the emulator dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group led by p.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		p.Kill()
	}
}
