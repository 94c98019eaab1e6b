package acs

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
)

// maxEpochSeconds bounds accepted timestamps to the years 0000-9999, which
// keeps every value exact in a float64 at millisecond resolution.
const maxEpochSeconds = 253402300799

// Timestamp is the model's timestamp type (only TCS uses it). The agent
// writes it, through the AWS SDK's JSON protocol, as a JSON number of seconds
// since the Unix epoch, possibly with a fractional part. Timestamp has
// millisecond resolution: it writes integral seconds when it can and
// otherwise seconds with up to three decimals. It reads a number, a numeric
// string, or an RFC 3339 string, and null as the zero Timestamp. A zero
// Timestamp is omitted from the frame (the fields are tagged omitzero).
type Timestamp struct {
	time.Time
}

// NewTimestamp returns t as a Timestamp, in UTC and truncated to the
// millisecond (the resolution of the wire format).
func NewTimestamp(t time.Time) Timestamp {
	if t.IsZero() {
		return Timestamp{}
	}
	return Timestamp{time.UnixMilli(t.UnixMilli()).UTC()}
}

// MarshalJSON writes the epoch-seconds number. The zero Timestamp is null.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	ms := t.UnixMilli()
	if ms/1000 > maxEpochSeconds || ms/1000 < -maxEpochSeconds {
		return nil, errors.New("acs: timestamp out of range")
	}
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1e3, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of epoch seconds, a string holding one, or an
// RFC 3339 string; null leaves the zero Timestamp.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Timestamp{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if p, err := time.Parse(time.RFC3339Nano, s); err == nil {
			if p.Unix() > maxEpochSeconds || p.Unix() < -maxEpochSeconds {
				return errors.New("acs: timestamp out of range")
			}
			*t = NewTimestamp(p)
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("acs: timestamp is neither epoch seconds nor RFC 3339")
	}
	if f > maxEpochSeconds || f < -maxEpochSeconds {
		return errors.New("acs: timestamp out of range")
	}
	*t = Timestamp{time.UnixMilli(int64(math.Round(f * 1e3))).UTC()}
	return nil
}
