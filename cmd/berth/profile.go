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
	fs.StringVar(&p.path, "cpu-profile", "", "write a CPU profile (pprof) of the whole run to this file; the Nth SIGUSR2 ends it and starts FILE.usr2-N (diagnostics)")
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

// writeGoroutines writes every goroutine's stack, grouped, as text.
func (p *profileFlag) writeGoroutines(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--mem-profile:", err)
		return
	}
	defer f.Close()
	_ = pprof.Lookup("goroutine").WriteTo(f, 1)
}

func (p *profileFlag) start() (func(), error) {
	stopSignal := p.onSignal()
	if p.path == "" {
		return func() { stopSignal(); p.writeHeap() }, nil
	}
	seg, err := startCPUSegment(p.path)
	if err != nil {
		return nil, err
	}
	// SIGUSR2 ends the current CPU profile and starts the next, in
	// FILE.usr2-N, so that a benchmark can profile one phase of a run.
	// seg is only touched by the handler until stopSegments returns.
	stopSegments := onEachSignal(syscall.SIGUSR2, func(n int) {
		seg.stop()
		next, err := startCPUSegment(p.path + ".usr2-" + strconv.Itoa(n))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		seg = next
	})
	return func() {
		stopSegments()
		stopSignal()
		seg.stop()
		p.writeHeap()
	}, nil
}

// cpuSegment is a CPU profile being written to f.
type cpuSegment struct{ f *os.File }

func startCPUSegment(path string) (cpuSegment, error) {
	f, err := os.Create(path)
	if err != nil {
		return cpuSegment{}, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return cpuSegment{}, fmt.Errorf("--cpu-profile: %w", err)
	}
	return cpuSegment{f}, nil
}

func (s cpuSegment) stop() {
	if s.f != nil {
		pprof.StopCPUProfile()
		s.f.Close()
	}
}

// onSignal, with --mem-profile, writes the heap profile to FILE.usr1-N
// the Nth time the process gets SIGUSR1 (the live heap of a running process, which
// the profile at exit no longer shows once sessions have closed), and the
// goroutines' stacks beside it. It returns the function that stops
// listening.
func (p *profileFlag) onSignal() func() {
	if p.mem == "" {
		return func() {}
	}
	return onEachSignal(syscall.SIGUSR1, func(n int) {
		name := p.mem + ".usr1-" + strconv.Itoa(n)
		p.writeHeapTo(name)
		p.writeGoroutines(name + ".goroutines")
	})
}

// onEachSignal calls fn(n) on one goroutine the Nth time the process
// gets sig, until the returned function is called; that function returns
// once fn no longer runs.
func onEachSignal(sig os.Signal, fn func(n int)) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 1; ; n++ {
			select {
			case <-ch:
				fn(n)
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
