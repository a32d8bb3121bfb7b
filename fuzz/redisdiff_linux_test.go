package fuzz

import "syscall"

// rdProcAttr makes the kernel kill redis-server when the test process dies
// (a -test.timeout panic skips t.Cleanup).
func rdProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
