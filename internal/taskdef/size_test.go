package taskdef

import (
	"strings"
	"testing"
)

func TestParseCPU(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"1024", 1024, true},
		{" 256 ", 256, true},
		{"128", 128, true},
		{"196608", 196608, true},
		{"1 vCPU", 1024, true},
		{"1 vcpu", 1024, true},
		{"1VCPU", 1024, true},
		{".25 vCPU", 256, true},
		{"0.25 vCPU", 256, true},
		{"0.125 vCPU", 128, true},
		{"16 vCPU", 16384, true},
		{"192 vCPU", 196608, true},
		{"2. vCPU", 2048, true},
		{"127", 0, false},
		{"196609", 0, false},
		{"0", 0, false},
		{"-1024", 0, false},
		{"+1024", 0, false},
		{"1024.0", 0, false},
		{"1e3", 0, false},
		{"1.3 vCPU", 0, false},
		{"0.1 vCPU", 0, false},
		{"vCPU", 0, false},
		{". vCPU", 0, false},
		{"1 cpu", 0, false},
		{"1 vCPUs", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
		{"1.0000001 vCPU", 0, false},
		{strings.Repeat("9", 10) + "." + strings.Repeat("9", 5) + " vcpu", 0, false},
		{"0.000001 vCPU", 0, false},
	} {
		got, ok := ParseCPU(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCPU(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"512", 512, true},
		{"1", 1, true},
		{"2 GB", 2048, true},
		{"2GB", 2048, true},
		{"2 gb", 2048, true},
		{"0.5GB", 512, true},
		{"0.5 GB", 512, true},
		{"120 GB", 122880, true},
		{"2147483647", 2147483647, true},
		{"2147483648", 0, false},
		{"0", 0, false},
		{"0 GB", 0, false},
		{"-512", 0, false},
		{"512 MiB", 0, false},
		{"512MB", 0, false},
		{"2 TB", 0, false},
		{"0.1 GB", 0, false},
		{"512.5", 0, false},
		{"GB", 0, false},
		{"", 0, false},
		{"2 G B", 0, false},
	} {
		got, ok := ParseMemory(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"web", true}, {"Web_App-2", true}, {strings.Repeat("a", 255), true},
		{"", false}, {strings.Repeat("a", 256), false}, {"web app", false}, {"web:1", false},
		{"wéb", false}, {"web/1", false}, {"web.1", false},
	} {
		if got := ValidFamily(tc.in); got != tc.want {
			t.Errorf("ValidFamily(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if got := ValidContainerName(tc.in); got != tc.want {
			t.Errorf("ValidContainerName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
