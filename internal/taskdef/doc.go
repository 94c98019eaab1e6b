// Package taskdef decides what Amazon ECS's RegisterTaskDefinition would do
// with a request: it validates the request the way ECS does (after the
// generic model validation of package wire has passed) and builds the task
// definition ECS would store and return, with ECS's defaults filled in.
//
// The package is pure decision code. It does no I/O, reads no clock and
// touches no store; the control plane assigns the members that depend on
// state (taskDefinitionArn, revision, status, registeredAt, registeredBy,
// deregisteredAt) and persists the result.
//
// Entry points:
//   - Build validates a RegisterTaskDefinitionRequest and returns the
//     wire.TaskDefinition to store;
//   - ValidFamily, ParseCPU, ParseMemory and FargateSizeValid are the
//     building blocks other operations reuse (RunTask and CreateService
//     check task-level overrides and Fargate sizes with them);
//   - ValidateTags checks a request's tags (it delegates to package ecs,
//     which owns the tag rules shared by every taggable resource).
//
// Every error is an *ecs.Error whose Code is ClientException or
// InvalidParameterException, as real ECS answers. Message strings are kept
// in messages.go; each carries its provenance: [aws] means the wording was
// observed verbatim in real ECS responses (issue threads, tool logs, AWS
// documentation), [impl] means AWS's wording is unknown and Berth chose it.
package taskdef
