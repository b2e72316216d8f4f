//go:build !linux

package e2e

import "syscall"

// sysProcAttr is empty where the OS has no parent-death signal.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
