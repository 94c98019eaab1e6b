package scheduler

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// rankKind is a compiled strategy.
type rankKind uint8

const (
	rankBinpackCPU rankKind = iota
	rankBinpackMemory
	rankSpreadInstance
	rankSpreadAttribute
	rankRandom
)

// rank is one compiled strategy: its kind and, for spread by attribute,
// the attribute name.
type rank struct {
	kind rankKind
	attr string
}

// constraint is one compiled placement constraint.
type constraint struct {
	distinct bool
	expr     Expr // memberOf
}

// compiled is a validated request, ready to evaluate.
type compiled struct {
	req         *Request
	ranks       []rank
	constraints []constraint
	// needGroup is set when placement reads the request group's task
	// count on each instance (spread, distinctInstance).
	needGroup bool
}

// Validate checks the request as Place would, without placing anything: the
// lead can call it at CreateService/UpdateService time to reject a bad
// strategy or constraint up front. The error is a *RequestError.
func (r Request) Validate() error {
	_, err := compile(&r)
	return err
}

func compile(req *Request) (*compiled, error) {
	switch {
	case req.Count < 0:
		return nil, requestErrorf("count", "count must not be negative, got %d", req.Count)
	case req.CPU < 0:
		return nil, requestErrorf("cpu", "cpu must not be negative, got %d", req.CPU)
	case req.Memory < 0:
		return nil, requestErrorf("memory", "memory must not be negative, got %d", req.Memory)
	case req.GPUs < 0:
		return nil, requestErrorf("gpu", "the GPU count must not be negative, got %d", req.GPUs)
	}
	if err := validatePorts("hostPort", req.Ports); err != nil {
		return nil, err
	}
	if err := validatePorts("hostPort (udp)", req.PortsUDP); err != nil {
		return nil, err
	}
	for i, a := range req.RequiredAttributes {
		if a.Name == "" {
			return nil, requestErrorf(fmt.Sprintf("requiresAttributes[%d].name", i), "attribute name must not be empty")
		}
	}
	ranks, err := compileStrategies(req.Strategies)
	if err != nil {
		return nil, err
	}
	cp := &compiled{req: req, ranks: ranks}
	for _, r := range ranks {
		if r.kind == rankSpreadInstance || r.kind == rankSpreadAttribute {
			cp.needGroup = true
		}
	}
	if len(req.Constraints) > MaxConstraints {
		return nil, requestErrorf("placementConstraints", "at most %d placement constraints are allowed, got %d", MaxConstraints, len(req.Constraints))
	}
	for i, c := range req.Constraints {
		switch c.Type {
		case ConstraintDistinctInstance:
			if c.Expression != "" {
				return nil, requestErrorf(fmt.Sprintf("placementConstraints[%d].expression", i), "a distinctInstance constraint takes no expression")
			}
			cp.constraints = append(cp.constraints, constraint{distinct: true})
			cp.needGroup = true
		case ConstraintMemberOf:
			field := fmt.Sprintf("placementConstraints[%d].expression", i)
			if strings.TrimSpace(c.Expression) == "" {
				return nil, requestErrorf(field, "a memberOf constraint requires an expression")
			}
			if n := utf8.RuneCountInString(c.Expression); n > MaxExpressionLength {
				return nil, requestErrorf(field, "the expression must be at most %d characters, got %d", MaxExpressionLength, n)
			}
			e, err := ParseExpression(c.Expression)
			if err != nil {
				return nil, &RequestError{Field: field, Message: err.Error(), Err: err}
			}
			cp.constraints = append(cp.constraints, constraint{expr: e})
		default:
			return nil, requestErrorf(fmt.Sprintf("placementConstraints[%d].type", i), "unknown placement constraint type %q; expected distinctInstance or memberOf", c.Type)
		}
	}
	return cp, nil
}

func validatePorts(field string, ports []int) error {
	seen := make(map[int]bool, len(ports))
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return requestErrorf(field, "host port %d is out of range 1-65535", p)
		}
		if seen[p] {
			return requestErrorf(field, "host port %d is listed twice", p)
		}
		seen[p] = true
	}
	return nil
}

// compileStrategies validates placement strategies (spec §6.3): at most
// five; binpack on cpu or memory; spread on instanceId, host or
// attribute:<name>; random with any field (the field is not used).
func compileStrategies(ss []Strategy) ([]rank, error) {
	if len(ss) > MaxStrategies {
		return nil, requestErrorf("placementStrategy", "at most %d placement strategies are allowed, got %d", MaxStrategies, len(ss))
	}
	ranks := make([]rank, 0, len(ss))
	for i, s := range ss {
		field := fmt.Sprintf("placementStrategy[%d].field", i)
		switch s.Type {
		case StrategyBinpack:
			switch s.Field {
			case FieldCPU:
				ranks = append(ranks, rank{kind: rankBinpackCPU})
			case FieldMemory:
				ranks = append(ranks, rank{kind: rankBinpackMemory})
			default:
				return nil, requestErrorf(field, "invalid binpack field %q; expected cpu or memory", s.Field)
			}
		case StrategySpread:
			switch {
			case s.Field == FieldInstanceID || s.Field == FieldHost:
				ranks = append(ranks, rank{kind: rankSpreadInstance})
			case strings.HasPrefix(s.Field, FieldAttributePrefix) && len(s.Field) > len(FieldAttributePrefix):
				ranks = append(ranks, rank{kind: rankSpreadAttribute, attr: s.Field[len(FieldAttributePrefix):]})
			default:
				return nil, requestErrorf(field, "invalid spread field %q; expected instanceId, host or attribute:<name>", s.Field)
			}
		case StrategyRandom:
			ranks = append(ranks, rank{kind: rankRandom})
		default:
			return nil, requestErrorf(fmt.Sprintf("placementStrategy[%d].type", i), "unknown placement strategy type %q; expected binpack, spread or random", s.Type)
		}
	}
	return ranks, nil
}
