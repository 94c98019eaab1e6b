package scheduler

// The scheduler's randomness is a pure function of the request's seed and
// the identity of what is being ranked (an ARN), never of input order or
// of a shared random source, so a plan can be replayed from its inputs.

const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finaliser: a bijection on uint64 whose output
// bits each depend on every input bit.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Fingerprint is the hash Place breaks ties with (see
// Candidate.Fingerprint); it is never 0.
func Fingerprint(arn string) uint64 {
	if h := fingerprint(arn); h != 0 {
		return h
	}
	return 1
}

// fingerprint hashes s, eight bytes at a time. It is not cryptographic;
// it only has to spread distinct ARNs over the uint64 range.
func fingerprint(s string) uint64 {
	h := uint64(golden) ^ uint64(len(s))
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ w) * 0xff51afd7ed558ccd
		h ^= h >> 32
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	return mix64(h)
}

// taskSalt derives the per-task random salt from the seed, so each task of
// a request draws fresh priorities.
func taskSalt(seed uint64, task int) uint64 {
	return mix64(seed + uint64(task+1)*golden)
}
