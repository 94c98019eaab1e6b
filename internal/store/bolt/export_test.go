package bolt

// ReleaseMapped exposes releaseMapped to the external tests.
func (s *Store) ReleaseMapped() { s.releaseMapped() }
