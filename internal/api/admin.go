package api

import "net/http"

// WriteError answers a request outside the ECS API (the server's
// administrative endpoints) with an error exactly as an ECS operation
// would: `__type`, `message`, the HTTP status of the one mapping in
// errors.go, and a request id.
func (s *Server) WriteError(w http.ResponseWriter, err error) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	writeError(w, s.log, reqID, err)
}
