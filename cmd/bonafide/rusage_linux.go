package main

import (
	"os"
	"syscall"
)

// rusageMaxRSS returns the peak resident set of an exited child in bytes.
func rusageMaxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024 // kilobytes on Linux
	}
	return 0
}
