package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/acs"
)

// emptySHA256 is the SHA-256 of an empty body, the payload hash of the
// signed websocket upgrade.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// dialTimeout bounds DiscoverPollEndpoint and the websocket handshake.
const dialTimeout = 30 * time.Second

// errInactive reports an ACS session on which nothing arrived within the
// inactivity timeout.
var errInactive = errors.New("agent: nothing received from ACS within the inactivity timeout")

// errServerClosed reports a session the server ended with a CloseMessage.
var errServerClosed = errors.New("agent: the server closed the ACS session")

// sessions keeps an ACS session open until ctx ends. It reconnects at once
// after a session reached its lifetime or the server ended it with a
// CloseMessage; after InactiveInstanceWait when the server refused the
// instance as INACTIVE (deregistered); and with backoff otherwise.
func (a *Agent) sessions(ctx context.Context, arn string, eng *engine) {
	bo := newBackoff(a.cfg.Backoff)
	first := true
	for {
		connected, err := a.session(ctx, arn, eng, first)
		if ctx.Err() != nil {
			return
		}
		if connected {
			first = false
			bo.reset()
		}
		var inactive *acs.InactiveInstanceException
		var d time.Duration
		switch {
		case err == nil, errors.Is(err, errServerClosed):
			a.log.Debug("ACS session ended; reconnecting", "cause", err)
		case errors.As(err, &inactive):
			d = a.cfg.InactiveInstanceWait
			a.log.Error("the container instance is INACTIVE (deregistered); waiting before reconnecting", "err", err, "in", d)
		default:
			d = bo.delay()
			a.log.Warn("ACS session failed; reconnecting", "err", err, "in", d)
		}
		if sleep(ctx, d) != nil {
			return
		}
	}
}

// session runs one ACS session: DiscoverPollEndpoint, a SigV4-signed
// websocket upgrade, then messages until the session ends. connected says
// whether the handshake succeeded; a nil error means the session reached
// its lifetime (or ctx ended).
func (a *Agent) session(ctx context.Context, arn string, eng *engine, first bool) (connected bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	ep, err := a.cfg.ECS.DiscoverPollEndpoint(dctx, &ecs.DiscoverPollEndpointInput{
		Cluster:           aws.String(a.cfg.Cluster),
		ContainerInstance: aws.String(arn),
	})
	if err != nil {
		return false, fmt.Errorf("discover poll endpoint: %w", err)
	}
	url := acs.SessionURL(aws.ToString(ep.Endpoint), acs.Params{
		ClusterARN:           a.cfg.Cluster,
		ContainerInstanceARN: arn,
		AgentVersion:         Version,
		AgentHash:            agentHash(),
		DockerVersion:        "DockerVersion: " + a.cfg.DockerVersion,
		SeqNum:               1,
		ProtocolVersion:      2,
		SendCredentials:      first,
	})
	header, err := a.sign(dctx, url)
	if err != nil {
		return false, err
	}
	conn, err := acs.Dial(dctx, url, header)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	a.log.Info("ACS session connected", "endpoint", aws.ToString(ep.Endpoint))
	if a.cfg.OnConnected != nil {
		a.cfg.OnConnected(arn)
	}

	s := &acsSession{a: a, conn: conn, eng: eng}
	end := time.Now().Add(jitter(a.cfg.SessionLifetime, 1.0/6))
	for {
		deadline := time.Now().Add(jitter(a.cfg.InactivityTimeout, 1))
		lifetime := !end.After(deadline)
		if lifetime {
			deadline = end
		}
		rctx, cancel := context.WithDeadline(ctx, deadline)
		msg, err := conn.Recv(rctx)
		cancel()
		var unknown *acs.UnknownTypeError
		var malformed *acs.MalformedFrameError
		switch {
		case ctx.Err() != nil:
			return true, nil
		case errors.Is(err, context.DeadlineExceeded) && lifetime:
			return true, nil
		case errors.Is(err, context.DeadlineExceeded):
			return true, errInactive
		case errors.As(err, &unknown), errors.As(err, &malformed):
			a.log.Warn("ignoring an ACS frame", "err", err)
			continue
		case err != nil:
			return true, err
		}
		if err := s.handle(ctx, msg); err != nil {
			return true, err
		}
	}
}

// sign returns the headers of a GET of url signed with SigV4 (service
// "ecs", empty payload) with the ECS client's credentials and region, as
// the ECS agent signs its websocket upgrade. Without credentials the
// upgrade goes unsigned.
func (a *Agent) sign(ctx context.Context, url string) (http.Header, error) {
	httpURL := url
	switch {
	case strings.HasPrefix(url, "ws://"):
		httpURL = "http://" + strings.TrimPrefix(url, "ws://")
	case strings.HasPrefix(url, "wss://"):
		httpURL = "https://" + strings.TrimPrefix(url, "wss://")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, httpURL, nil)
	if err != nil {
		return nil, fmt.Errorf("agent: ACS URL: %w", err)
	}
	opts := a.cfg.ECS.Options()
	if opts.Credentials == nil {
		return req.Header, nil
	}
	creds, err := opts.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent: credentials: %w", err)
	}
	// The server checks the signature's time against its own clock, so
	// this is wall time, not Config.Now.
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "ecs", opts.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("agent: sign the ACS upgrade: %w", err)
	}
	return req.Header, nil
}

// acsSession is the state of one session: the highest payload seqNum
// seen, below which manifests are stale. Only the session goroutine uses
// it.
type acsSession struct {
	a      *Agent
	conn   *acs.ClientConn
	eng    *engine
	maxSeq int64
}

// handle answers one server message. A non-nil error ends the session.
func (s *acsSession) handle(ctx context.Context, msg any) error {
	switch m := msg.(type) {
	case *acs.HeartbeatMessage:
		return s.conn.Send(ctx, &acs.HeartbeatAckRequest{MessageID: m.MessageID})
	case *acs.PayloadMessage:
		for _, t := range m.Tasks {
			s.eng.apply(t)
		}
		s.maxSeq = max(s.maxSeq, m.SeqNum)
		if err := s.conn.Send(ctx, &acs.AckRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID}); err != nil {
			return err
		}
		for _, t := range m.Tasks {
			for _, c := range []*acs.IAMRoleCredentials{t.RoleCredentials, t.ExecutionRoleCredentials} {
				if c == nil {
					continue
				}
				if err := s.conn.Send(ctx, &acs.IAMRoleCredentialsAckRequest{MessageID: m.MessageID, CredentialsID: c.CredentialsID, Expiration: c.Expiration}); err != nil {
					return err
				}
			}
		}
		return nil
	case *acs.TaskManifestMessage:
		if err := s.conn.Send(ctx, &acs.AckRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID}); err != nil {
			return err
		}
		if m.Timeline <= s.maxSeq {
			s.a.log.Debug("ignoring a stale task manifest", "timeline", m.Timeline, "seqNum", s.maxSeq)
			return nil
		}
		candidates := s.eng.reconcile(m.Tasks)
		if len(candidates) == 0 {
			return nil
		}
		s.a.log.Info("tasks not in the manifest; asking the server", "count", len(candidates))
		return s.conn.Send(ctx, &acs.TaskStopVerificationMessage{MessageID: m.MessageID, StopCandidates: candidates})
	case *acs.TaskStopVerificationAck:
		for _, t := range m.StopTasks {
			s.eng.stop(t.TaskARN)
		}
		return nil
	case *acs.IAMRoleCredentialsMessage:
		if c := m.RoleCredentials; c != nil {
			return s.conn.Send(ctx, &acs.IAMRoleCredentialsAckRequest{MessageID: m.MessageID, CredentialsID: c.CredentialsID, Expiration: c.Expiration})
		}
		return nil
	case *acs.AttachTaskNetworkInterfacesMessage:
		return s.conn.Send(ctx, &acs.AckRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID})
	case *acs.AttachInstanceNetworkInterfacesMessage:
		return s.conn.Send(ctx, &acs.AckRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID})
	case *acs.ConfirmAttachmentMessage:
		return s.conn.Send(ctx, &acs.AckRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID})
	case *acs.StageUpdateMessage:
		return s.conn.Send(ctx, &acs.NackRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID, Reason: "updates are not supported by berth agent"})
	case *acs.PerformUpdateMessage:
		return s.conn.Send(ctx, &acs.NackRequest{Cluster: m.ClusterARN, ContainerInstance: m.ContainerInstanceARN, MessageID: m.MessageID, Reason: "updates are not supported by berth agent"})
	case *acs.CloseMessage:
		return fmt.Errorf("%w: %s", errServerClosed, m.Message)
	case error:
		// An exception shape (ServerException, InactiveInstanceException,
		// ...): the session is over.
		return m
	default:
		s.a.log.Debug("ignoring an ACS message", "type", fmt.Sprintf("%T", msg))
		return nil
	}
}
