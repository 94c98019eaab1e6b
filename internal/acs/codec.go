package acs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// A frame is a websocket text message {"type":"<ShapeName>","message":{...}}
// in both directions. The agent decodes frames with encoding/json into its
// model structs, so member names match case-insensitively on its side; Berth
// writes them exactly as the model spells them.

// codec maps shape names to Go types for one protocol. It is built once and
// never modified.
type codec struct {
	protocol string
	byName   map[string]reflect.Type
	byType   map[reflect.Type]string
}

func newCodec(protocol string, msgs ...any) *codec {
	c := &codec{protocol: protocol, byName: map[string]reflect.Type{}, byType: map[reflect.Type]string{}}
	for _, m := range msgs {
		t := reflect.TypeOf(m)
		c.byName[t.Name()] = t
		c.byType[t] = t.Name()
	}
	return c
}

// acsCodec knows every ACS frame type: what the server sends, what the agent
// sends, and the error shapes.
var acsCodec = newCodec("ACS",
	AckRequest{},
	AttachInstanceNetworkInterfacesMessage{},
	AttachTaskNetworkInterfacesMessage{},
	CloseMessage{},
	ConfirmAttachmentMessage{},
	ErrorMessage{},
	HeartbeatAckRequest{},
	HeartbeatMessage{},
	IAMRoleCredentialsAckRequest{},
	IAMRoleCredentialsMessage{},
	NackRequest{},
	PayloadMessage{},
	PerformUpdateMessage{},
	PollRequest{},
	StageUpdateMessage{},
	TaskManifestMessage{},
	TaskStopVerificationAck{},
	TaskStopVerificationMessage{},
	AccessDeniedException{},
	BadRequestException{},
	InactiveInstanceException{},
	InvalidClusterException{},
	InvalidInstanceException{},
	ServerException{},
)

// tcsCodec knows every TCS frame type.
var tcsCodec = newCodec("TCS",
	AckPublishHealth{},
	AckPublishInstanceStatus{},
	AckPublishMetric{},
	HeartbeatMessage{},
	PublishHealthRequest{},
	PublishInstanceStatusRequest{},
	PublishMetricsRequest{},
	StartTelemetrySessionRequest{},
	StopTelemetrySessionMessage{},
	BadRequestException{},
	InvalidParameterException{},
	ResourceValidationException{},
	ServerException{},
)

// Encode returns the ACS frame of msg, a message struct or a pointer to one
// (PayloadMessage, HeartbeatMessage, AckRequest, ..., or an exception shape).
// A value of another type is an *UnknownTypeError. Encode is safe for
// concurrent use.
func Encode(msg any) ([]byte, error) { return acsCodec.encode(msg) }

// Decode parses an ACS frame and returns a pointer to the message struct its
// type names (e.g. *PayloadMessage). A type that is not an ACS shape is an
// *UnknownTypeError; anything else that is not a valid frame is a
// *MalformedFrameError. Like the agent, Decode also accepts the unframed
// error form {"<ExceptionName>":"<message>"} of a refused handshake. Unknown
// members are ignored; a missing or null message decodes as the zero struct.
// Decode never panics and is safe for concurrent use.
func Decode(b []byte) (any, error) { return acsCodec.decode(b) }

// EncodeTelemetry returns the TCS frame of msg (PublishMetricsRequest,
// AckPublishMetric, HeartbeatMessage, ...), as Encode does for ACS. It writes
// the bare frame, without the signed-header preamble the agent adds (see
// DecodeTelemetry).
func EncodeTelemetry(msg any) ([]byte, error) { return tcsCodec.encode(msg) }

// DecodeTelemetry parses a TCS frame, as Decode does for ACS. The agent
// prefixes every frame it sends on TCS with the SigV4-signed HTTP headers of
// that frame, "Name: value\r\n" lines and an empty line; DecodeTelemetry
// skips such a preamble (see SplitSignedFrame to read it).
func DecodeTelemetry(b []byte) (any, error) {
	_, body, err := SplitSignedFrame(b)
	if err != nil {
		return nil, err
	}
	return tcsCodec.decode(body)
}

// SplitSignedFrame separates the signed-header preamble of a TCS frame from
// its JSON body. A frame that starts with '{' (after white space) has no
// preamble and is returned whole with a nil header. Otherwise the preamble
// ends at the first empty line; a frame without one is a
// *MalformedFrameError. The header lines are returned raw ("Name: value"
// per line, without the empty line) for a caller that wants to verify the
// per-frame signature.
func SplitSignedFrame(b []byte) (header, body []byte, err error) {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return nil, b, nil
	}
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return nil, nil, &MalformedFrameError{Reason: "neither a JSON object nor signed headers followed by one"}
	}
	return b[:i], b[i+4:], nil
}

// TypeName returns the shape name under which msg (a message struct or a
// pointer to one) travels, or "" when msg is not a message of ACS or TCS.
func TypeName(msg any) string {
	t := reflect.TypeOf(msg)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := acsCodec.byType[t]; ok {
		return n
	}
	return tcsCodec.byType[t]
}

// frame is the envelope on the wire.
type frame struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
}

func (c *codec) encode(msg any) ([]byte, error) {
	v := reflect.ValueOf(msg)
	if !v.IsValid() {
		return nil, &UnknownTypeError{Type: "nil"}
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, &UnknownTypeError{Type: fmt.Sprintf("%T(nil)", msg)}
		}
		v = v.Elem()
	}
	name, ok := c.byType[v.Type()]
	if !ok {
		return nil, &UnknownTypeError{Type: fmt.Sprintf("%T", msg)}
	}
	body, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, fmt.Errorf("acs: encode %s: %w", name, err)
	}
	return json.Marshal(frame{Type: name, Message: body})
}

// framePrefix and messageKey are how encode writes a frame's envelope.
const (
	framePrefix = `{"type":"`
	messageKey  = `","message":`
)

// splitFrame cuts a frame written exactly as encode writes it,
// {"type":"<Name>","message":<message>} with a name of ASCII letters and
// digits and no white space, into its name and message bytes. Whether the
// message is one valid JSON value is for its decoding to tell.
func splitFrame(b []byte) (name string, msg []byte, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(framePrefix))
	if !ok {
		return "", nil, false
	}
	i := 0
	for i < len(rest) && (rest[i] >= 'A' && rest[i] <= 'Z' || rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= '0' && rest[i] <= '9') {
		i++
	}
	if i == 0 {
		return "", nil, false
	}
	msg, ok = bytes.CutPrefix(rest[i:], []byte(messageKey))
	if !ok || len(msg) < 2 || msg[len(msg)-1] != '}' {
		return "", nil, false
	}
	return string(rest[:i]), msg[:len(msg)-1], true
}

func (c *codec) decode(b []byte) (any, error) {
	// PayloadMessage, the large and frequent frame, first tries a decoder
	// without reflection; when it gives up, decodeJSON decodes the frame
	// as if it had not been tried (see payload_decode.go).
	if bytes.HasPrefix(b, []byte(payloadFramePrefix)) && c.byName["PayloadMessage"] != nil {
		if _, msg, ok := splitFrame(b); ok {
			if p, ok := decodePayload(msg); ok {
				return p, nil
			}
		}
	}
	return c.decodeJSON(b)
}

// payloadFramePrefix starts a PayloadMessage frame as encode writes it.
const payloadFramePrefix = framePrefix + "PayloadMessage" + messageKey

// decodeJSON is decode with encoding/json alone.
func (c *codec) decodeJSON(b []byte) (any, error) {
	// The frames Berth writes decode in one pass over their message
	// instead of one over the frame and another over its message. Only a
	// success is taken from it: when the message is not one valid value
	// of its type, or the type is unknown, the general path below decodes
	// the frame again, so that every error is the one it reports.
	if name, msg, ok := splitFrame(b); ok {
		if t, known := c.byName[name]; known {
			p := reflect.New(t)
			if bytes.Equal(msg, []byte("null")) || json.Unmarshal(msg, p.Interface()) == nil {
				return p.Interface(), nil
			}
		}
	}
	return c.decodeFrame(b)
}

// decodeFrame is decode's general path: the envelope first, then the
// message.
func (c *codec) decodeFrame(b []byte) (any, error) {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, &MalformedFrameError{Err: err}
	}
	if f.Type == "" {
		if e, ok := c.decodeUnframedError(b); ok {
			return e, nil
		}
		return nil, &MalformedFrameError{Reason: "no type"}
	}
	t, ok := c.byName[f.Type]
	if !ok {
		return nil, &UnknownTypeError{Type: f.Type}
	}
	p := reflect.New(t)
	if len(f.Message) > 0 && !bytes.Equal(f.Message, []byte("null")) {
		if err := json.Unmarshal(f.Message, p.Interface()); err != nil {
			return nil, &MalformedFrameError{Type: f.Type, Err: err}
		}
	}
	return p.Interface(), nil
}

// decodeUnframedError reads {"<ExceptionName>":"<message>"}.
func (c *codec) decodeUnframedError(b []byte) (Exception, bool) {
	var m map[string]string
	if json.Unmarshal(b, &m) != nil || len(m) != 1 {
		return nil, false
	}
	for name, text := range m {
		t, ok := c.byName[name]
		if !ok {
			return nil, false
		}
		p := reflect.New(t)
		e, ok := p.Interface().(Exception)
		if !ok {
			return nil, false
		}
		p.Elem().FieldByName("Message").SetString(text)
		return e, true
	}
	return nil, false
}

// refusalBody is the HTTP body of a refused handshake.
func refusalBody(e Exception) []byte {
	b, _ := json.Marshal(map[string]string{e.ExceptionName(): e.ExceptionMessage()})
	return b
}
