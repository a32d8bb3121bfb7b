package server

import "syscall"

// scratchProcAttr makes the kernel kill a scratch redis-server when the
// test process dies (a -test.timeout panic skips t.Cleanup).
func scratchProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
