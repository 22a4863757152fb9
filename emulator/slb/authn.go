package slb

// RPCError is an error answer in the shape every emulated RPC service
// writes (HTTP status, error code, message).
type RPCError struct {
	Status  int
	Code    string
	Message string
}

// Error renders the code and message.
func (e *RPCError) Error() string { return e.Code + ": " + e.Message }

// Authenticate checks an RPC request's access key, signature, STS token,
// timestamp and nonce against this server's accounts, exactly as SLB's own
// calls are checked, so that other emulated RPC services (Alidns) share the
// accounts and the nonce window. nil means the request is authentic.
func (s *Server) Authenticate(method string, params map[string]string) *RPCError {
	if e := s.authenticate(method, params); e != nil {
		return &RPCError{Status: e.Status, Code: e.Code, Message: e.Message}
	}
	return nil
}
