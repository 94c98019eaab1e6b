package taskdef

// maxNameLen is the longest family, container or volume name.
const maxNameLen = 255

// ValidFamily reports whether s is a valid task definition family name:
// 1–255 ASCII letters, digits, hyphens and underscores [doc].
func ValidFamily(s string) bool { return validName(s) }

// ValidContainerName reports whether s is a valid container name: 1–255
// ASCII letters, digits, hyphens and underscores [doc].
func ValidContainerName(s string) bool { return validName(s) }

func validName(s string) bool {
	return s != "" && len(s) <= maxNameLen && nameChars(s)
}

// nameChars reports whether s consists only of [A-Za-z0-9_-].
func nameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}
