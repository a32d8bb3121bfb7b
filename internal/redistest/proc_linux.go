package redistest

import "syscall"

// procAttr makes the kernel kill redis-server when the test process dies
// (a -test.timeout panic skips t.Cleanup).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
