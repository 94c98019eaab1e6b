package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profileFlag adds --cpu-profile and --mem-profile to a role's flags.
// start begins the CPU profile (when a file was named) and returns the
// function that ends it and writes the heap profile; the profiles cover
// the process's whole run, for diagnosing benchmarks.
type profileFlag struct{ path, mem string }

func (p *profileFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&p.path, "cpu-profile", "", "write a CPU profile (pprof) of the whole run to this file (diagnostics)")
	fs.StringVar(&p.mem, "mem-profile", "", "write a heap profile (pprof: live and allocated) to this file at exit (diagnostics)")
}

// writeHeap writes the heap profile, after a GC so the live figures are
// current.
func (p *profileFlag) writeHeap() {
	if p.mem == "" {
		return
	}
	f, err := os.Create(p.mem)
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
	if t, err := os.Create(p.mem + ".txt"); err == nil {
		_ = pprof.Lookup("heap").WriteTo(t, 1)
		t.Close()
	}
}

func (p *profileFlag) start() (func(), error) {
	if p.path == "" {
		return p.writeHeap, nil
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
		pprof.StopCPUProfile()
		f.Close()
		p.writeHeap()
	}, nil
}
