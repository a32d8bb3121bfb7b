//go:build !linux

package server

import "syscall"

// scratchProcAttr: only Linux can tie the child's life to the test process.
func scratchProcAttr() *syscall.SysProcAttr { return nil }
