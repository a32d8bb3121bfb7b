//go:build !linux

package fuzz

import "syscall"

// rdProcAttr: only Linux can tie the child's life to the test process.
func rdProcAttr() *syscall.SysProcAttr { return nil }
