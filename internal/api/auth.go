package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// AuthMode says whether requests must carry a valid SigV4 signature.
type AuthMode string

// The authentication modes.
const (
	// AuthNone accepts any request. A signed request still chooses its
	// region (credential scope) and account (access key); an unsigned one
	// gets the defaults.
	AuthNone AuthMode = "none"
	// AuthSigV4 requires every request to be signed with a key from the
	// credentials file: an unknown key is UnrecognizedClientException, a
	// wrong signature InvalidSignatureException (both HTTP 403).
	AuthSigV4 AuthMode = "sigv4"
)

// Credential is one access key the server knows.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	AccountID       string `json:"accountId"`
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// ValidAccount reports whether s is a 12-digit account id.
func ValidAccount(s string) bool { return accountRE.MatchString(s) }

// LoadCredentials reads a credentials file. Two formats are accepted:
//
//   - JSON: a list of {"accessKeyId", "secretAccessKey", "accountId"}
//     objects, or an object {"credentials": [...]} holding such a list;
//   - text: one key per line, "ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID"
//     separated by spaces, tabs or commas; blank lines and lines starting
//     with # are ignored.
//
// Every account id must be 12 digits and every access key id unique.
func LoadCredentials(path string) ([]Credential, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	var creds []Credential
	trimmed := bytes.TrimSpace(b)
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")):
		err = json.Unmarshal(trimmed, &creds)
	case bytes.HasPrefix(trimmed, []byte("{")):
		var doc struct {
			Credentials []Credential `json:"credentials"`
		}
		err = json.Unmarshal(trimmed, &doc)
		creds = doc.Credentials
	default:
		sc := bufio.NewScanner(bytes.NewReader(b))
		line := 0
		for sc.Scan() {
			line++
			s := strings.TrimSpace(sc.Text())
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
			if len(f) != 3 {
				return nil, fmt.Errorf("credentials: %s:%d: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID", path, line)
			}
			creds = append(creds, Credential{AccessKeyID: f[0], SecretAccessKey: f[1], AccountID: f[2]})
		}
		err = sc.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: %s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("credentials: %s: every entry needs an access key id and a secret", path)
		}
		if !ValidAccount(c.AccountID) {
			return nil, fmt.Errorf("credentials: %s: account id %q of %s is not 12 digits", path, c.AccountID, c.AccessKeyID)
		}
		if seen[c.AccessKeyID] {
			return nil, fmt.Errorf("credentials: %s: access key id %s appears twice", path, c.AccessKeyID)
		}
		seen[c.AccessKeyID] = true
	}
	return creds, nil
}
