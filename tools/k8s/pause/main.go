// labforge-pause: the sandbox ("pause") process of every pod of the practice cluster, and the init
// process of each cluster's node. No image registry is reachable, so the upstream pause image
// cannot be pulled; this does what it does: wait for a stop signal, and reap every child that was
// re-parented to it (the node's containerd shims are, and an init that does not reap fills the
// process table with zombies).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("labforge-pause 1\n")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
