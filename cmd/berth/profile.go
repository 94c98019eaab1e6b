package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
)

// profileFlag adds --cpu-profile to a role's flags. start begins the CPU
// profile (when a file was named) and returns the function that ends it;
// the profile covers the process's whole run, for diagnosing benchmarks.
type profileFlag struct{ path string }

func (p *profileFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&p.path, "cpu-profile", "", "write a CPU profile (pprof) of the whole run to this file (diagnostics)")
}

func (p *profileFlag) start() (func(), error) {
	if p.path == "" {
		return func() {}, nil
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
	}, nil
}
