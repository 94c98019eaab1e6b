// Command probe is the program inside the test image berth-test/probe that
// the docker runtime's integration tests run. It is built static
// (CGO_ENABLED=0) and imported into an image that holds nothing else, so it
// must do every job a test needs by itself:
//
//	probe [flags]          run: print, serve, fetch, sleep, then exit
//	probe health [flags]   a health check command: exit 0 (healthy) or 1
//
// As PID 1 of its container it gets no default signal handling from the
// kernel, so it handles SIGTERM itself: it prints "got SIGTERM" and exits
// with 143 (128+15), the code a shell would report.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "health" {
		os.Exit(health(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

// run is the main program. Its steps happen in this order: print, write a
// file, allocate, fetch, listen, then sleep (or wait for SIGTERM), then exit.
func run(args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	stdout := fs.String("print", "", "write this line to stdout")
	stderr := fs.String("stderr", "", "write this line to stderr")
	writeFile := fs.String("write", "", "write \"probe\" to this file (path=text to choose the text)")
	alloc := fs.Int("alloc-mib", 0, "allocate and touch this many MiB")
	getEnv := fs.String("get-env", "", "GET the URL held by this environment variable and print the body")
	listen := fs.String("listen", "", "serve HTTP on this address (e.g. :8080)")
	sleep := fs.Duration("sleep", 0, "run this long before exiting")
	forever := fs.Bool("forever", false, "run until SIGTERM (or SIGKILL)")
	ignoreTerm := fs.Bool("ignore-term", false, "print SIGTERM but keep running")
	code := fs.Int("exit", 0, "exit code")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	// Install the handler before printing anything: a test that waits for
	// the first line then knows that SIGTERM is handled.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)

	if *stdout != "" {
		fmt.Println(*stdout)
	}
	if *stderr != "" {
		fmt.Fprintln(os.Stderr, *stderr)
	}
	if *writeFile != "" {
		path, text, ok := strings.Cut(*writeFile, "=")
		if !ok {
			text = "probe"
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			return 1
		}
	}
	var hold [][]byte
	for range *alloc {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hold = append(hold, b)
	}
	if *getEnv != "" {
		if err := get(os.Getenv(*getEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			return 1
		}
	}
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen:", err)
			return 1
		}
		fmt.Println("listening on", ln.Addr())
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _ := os.Hostname()
			fmt.Fprintf(w, "probe %s %s\n", host, r.URL.Path)
		}))
	}

	var timeout <-chan time.Time
	if !*forever {
		timeout = time.After(*sleep)
	}
	for {
		select {
		case <-timeout:
			runtime.KeepAlive(hold)
			return *code
		case <-sigs:
			fmt.Println("got SIGTERM")
			if !*ignoreTerm {
				return 143
			}
		}
	}
}

// get prints the body of a GET of url.
func get(url string) error {
	if url == "" {
		return fmt.Errorf("no URL")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	fmt.Println()
	return err
}

// health is the health check command: healthy (0) unless -fail is given or
// the -url GET does not answer 200.
func health(args []string) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fail := fs.Bool("fail", false, "report unhealthy")
	url := fs.String("url", "", "healthy only if a GET of this URL answers 200")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *fail {
		fmt.Println("unhealthy on purpose")
		return 1
	}
	if *url != "" {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(*url)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Println(resp.Status)
			return 1
		}
	}
	fmt.Println("healthy")
	return 0
}
