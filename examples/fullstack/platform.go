package main

import (
	"context"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// outputs carries the IDs one step produces for the steps that depend on
// it. Each field is written by exactly one step and read only by steps
// that depend on that step, so the Runbook's ordering makes it race-free.
type outputs struct {
	key migration.Key
	vpc network.VPC
}

// runbook composes the platform: every package's Ensure and Delete as
// steps of one DAG, so independent parts provision in parallel.
func runbook(spec Spec, c *clients, opts migration.Options) (*migration.Runbook, error) {
	out := &outputs{}
	return migration.NewRunbook(opts,
		migration.Step{
			Name: "kms-key",
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.key, err = migration.EnsureKey(ctx, env, c.kms, spec.keySpec())
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return migration.DeleteKey(ctx, env, c.kms, spec.keySpec())
			},
		},
		migration.Step{
			Name: "vpc",
			Apply: func(ctx context.Context, env migration.Env) (err error) {
				out.vpc, err = network.EnsureVPC(ctx, env, c.ec2, spec.vpcSpec())
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return network.DeleteVPC(ctx, env, c.ec2, spec.vpcSpec())
			},
		},
	)
}
