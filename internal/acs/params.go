package acs

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Path is where the ACS websocket is served. The agent appends "ws" to the
// endpoint DiscoverPollEndpoint returns, so an endpoint of
// "http://berth:8080" (or ".../") is reached at http://berth:8080/ws.
const Path = "/ws"

// TelemetryPath is where the TCS websocket is served. The agent appends "ws"
// to telemetryEndpoint too, so DiscoverPollEndpoint must return
// "http://berth:8080/tcs" for the agent to reach /tcs/ws.
const TelemetryPath = "/tcs/ws"

// TelemetryEndpointSuffix is what DiscoverPollEndpoint appends to the base URL
// to form telemetryEndpoint.
const TelemetryEndpointSuffix = "/tcs"

// Params are the query parameters of the ACS websocket URL, the way the
// agent sends them (ecs-agent/acs/session: acsURL).
type Params struct {
	ClusterARN           string // clusterArn: the cluster ARN or name the agent was configured with
	ContainerInstanceARN string // containerInstanceArn: from RegisterContainerInstance
	AgentVersion         string // agentVersion
	AgentHash            string // agentHash
	DockerVersion        string // dockerVersion, e.g. "DockerVersion: 25.0.3"
	// SeqNum is seqNum; the agent always sends 1.
	SeqNum int64
	// ProtocolVersion is protocolVersion; 1 when absent. With 2 (current
	// agents) the server is expected to close the session when heartbeat
	// acks stop, which the inactivity timeout does.
	ProtocolVersion int64
	// SendCredentials is sendCredentials: true on the first connection
	// after the agent starts, asking the server to push the credentials of
	// every task on the instance.
	SendCredentials bool
}

// ParseParams reads Params from the query of an ACS websocket URL.
// containerInstanceArn is required; a missing or malformed parameter is a
// *BadRequestException naming it. Missing optional parameters keep their
// zero value (ProtocolVersion: 1).
func ParseParams(q url.Values) (Params, error) {
	p := Params{
		ClusterARN:           q.Get("clusterArn"),
		ContainerInstanceARN: q.Get("containerInstanceArn"),
		AgentVersion:         q.Get("agentVersion"),
		AgentHash:            q.Get("agentHash"),
		DockerVersion:        q.Get("dockerVersion"),
		ProtocolVersion:      1,
	}
	if p.ContainerInstanceARN == "" {
		return Params{}, &BadRequestException{Message: "missing containerInstanceArn"}
	}
	var err error
	if s := q.Get("seqNum"); s != "" {
		if p.SeqNum, err = strconv.ParseInt(s, 10, 64); err != nil {
			return Params{}, &BadRequestException{Message: fmt.Sprintf("invalid seqNum %.40q", s)}
		}
	}
	if s := q.Get("protocolVersion"); s != "" {
		if p.ProtocolVersion, err = strconv.ParseInt(s, 10, 64); err != nil || p.ProtocolVersion < 1 {
			return Params{}, &BadRequestException{Message: fmt.Sprintf("invalid protocolVersion %.40q", s)}
		}
	}
	if s := q.Get("sendCredentials"); s != "" {
		if p.SendCredentials, err = strconv.ParseBool(s); err != nil {
			return Params{}, &BadRequestException{Message: fmt.Sprintf("invalid sendCredentials %.40q", s)}
		}
	}
	return p, nil
}

// Query returns the parameters as the agent encodes them.
func (p Params) Query() url.Values {
	q := url.Values{}
	q.Set("clusterArn", p.ClusterARN)
	q.Set("containerInstanceArn", p.ContainerInstanceARN)
	q.Set("agentHash", p.AgentHash)
	q.Set("agentVersion", p.AgentVersion)
	q.Set("seqNum", strconv.FormatInt(p.SeqNum, 10))
	q.Set("protocolVersion", strconv.FormatInt(p.ProtocolVersion, 10))
	if p.DockerVersion != "" {
		q.Set("dockerVersion", p.DockerVersion)
	}
	q.Set("sendCredentials", strconv.FormatBool(p.SendCredentials))
	return q
}

// SessionURL returns the ACS websocket URL for an endpoint returned by
// DiscoverPollEndpoint, built as the agent builds it: endpoint + "/ws" +
// query. The scheme is kept (Dial maps http to ws and https to wss).
func SessionURL(endpoint string, p Params) string {
	return strings.TrimSuffix(endpoint, "/") + "/ws?" + p.Query().Encode()
}

// TelemetryParams are the query parameters of the TCS websocket URL
// (ecs-agent/tcs/handler: formatURL).
type TelemetryParams struct {
	Cluster           string // cluster
	ContainerInstance string // containerInstance (ARN)
	AgentVersion      string // agentVersion
	AgentHash         string // agentHash
	DockerVersion     string // dockerVersion; absent when the runtime is not Docker
}

// ParseTelemetryParams reads TelemetryParams from the query of a TCS URL.
// containerInstance is required (*BadRequestException).
func ParseTelemetryParams(q url.Values) (TelemetryParams, error) {
	p := TelemetryParams{
		Cluster:           q.Get("cluster"),
		ContainerInstance: q.Get("containerInstance"),
		AgentVersion:      q.Get("agentVersion"),
		AgentHash:         q.Get("agentHash"),
		DockerVersion:     q.Get("dockerVersion"),
	}
	if p.ContainerInstance == "" {
		return TelemetryParams{}, &BadRequestException{Message: "missing containerInstance"}
	}
	return p, nil
}

// Query returns the parameters as the agent encodes them.
func (p TelemetryParams) Query() url.Values {
	q := url.Values{}
	q.Set("cluster", p.Cluster)
	q.Set("containerInstance", p.ContainerInstance)
	q.Set("agentVersion", p.AgentVersion)
	q.Set("agentHash", p.AgentHash)
	if p.DockerVersion != "" {
		q.Set("dockerVersion", p.DockerVersion)
	}
	return q
}

// TelemetryURL returns the TCS websocket URL for a telemetryEndpoint, built
// as the agent builds it: endpoint + "/ws" + query.
func TelemetryURL(endpoint string, p TelemetryParams) string {
	return strings.TrimSuffix(endpoint, "/") + "/ws?" + p.Query().Encode()
}
