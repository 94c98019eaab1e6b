package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
)

// profileFlag adds --cpu-profile and --mem-profile to a role's flags.
// start begins the CPU profile (when a file was named) and returns the
// function that ends it and writes the heap profile; the profiles cover
// the process's whole run, for diagnosing benchmarks.
type profileFlag struct{ path, mem string }

func (p *profileFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&p.path, "cpu-profile", "", "write a CPU profile (pprof) of the whole run to this file (diagnostics)")
	fs.StringVar(&p.mem, "mem-profile", "", "write a heap profile (pprof: live and allocated) to this file at exit, and to FILE.usr1-N on the Nth SIGUSR1 (diagnostics)")
}

// writeHeap writes the heap profile, after a GC so the live figures are
// current.
func (p *profileFlag) writeHeap() { p.writeHeapTo(p.mem) }

// writeHeapTo writes the heap profile to path (and its text twin).
func (p *profileFlag) writeHeapTo(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--mem-profile:", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "--mem-profile:", err)
	}
	// The text form ends with the runtime's memory statistics (heap,
	// stacks, released), which explain the resident set.
	if t, err := os.Create(path + ".txt"); err == nil {
		_ = pprof.Lookup("heap").WriteTo(t, 1)
		t.Close()
	}
}

func (p *profileFlag) start() (func(), error) {
	stopSignal := p.onSignal()
	if p.path == "" {
		return func() { stopSignal(); p.writeHeap() }, nil
	}
	f, err := os.Create(p.path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() {
		stopSignal()
		pprof.StopCPUProfile()
		f.Close()
		p.writeHeap()
	}, nil
}

// onSignal, with --mem-profile, writes the heap profile to FILE.usr1-N
// the Nth time the process gets SIGUSR1 (the live heap of a running process, which
// the profile at exit no longer shows once sessions have closed). It
// returns the function that stops listening.
func (p *profileFlag) onSignal() func() {
	if p.mem == "" {
		return func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		n := 0
		for {
			select {
			case <-ch:
				n++
				p.writeHeapTo(p.mem + ".usr1-" + strconv.Itoa(n))
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
	}
}
