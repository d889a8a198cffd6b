package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
)

// defaultSpec is the reference migration of ARCHITECTURE.md: Virginia
// datacenter to us-east-1.
//
//go:embed spec.default.yaml
var defaultSpec []byte

// Spec is the whole migration as the operator writes it (YAML, or JSON,
// which is YAML too). Each section maps onto the specs of one package.
type Spec struct {
	Env     EnvSpec     `yaml:"env"`
	Key     KeySection  `yaml:"key"`
	Network NetworkSpec `yaml:"network"`
}

// EnvSpec names and tags the environment.
type EnvSpec struct {
	Suffix  string            `yaml:"suffix"`
	Region  string            `yaml:"region"`
	Project string            `yaml:"project"`
	Tags    map[string]string `yaml:"tags"`
}

// KeySection configures the env's KMS key.
type KeySection struct {
	DeletionWindowDays int `yaml:"deletionWindowDays"`
}

// NetworkSpec is the network section.
type NetworkSpec struct {
	VPC struct {
		CIDR string `yaml:"cidr"`
	} `yaml:"vpc"`
}

// loadSpec reads the spec at path, or the embedded default when path is
// empty. Unknown fields are errors: a typo must not silently fall back to
// a default.
func loadSpec(path string) (Spec, error) {
	data := defaultSpec
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Spec{}, fmt.Errorf("read spec: %w", err)
		}
		data = b
	}
	var s Spec
	if err := yaml.UnmarshalWithOptions(data, &s, yaml.DisallowUnknownField()); err != nil {
		return Spec{}, fmt.Errorf("parse spec %s: %s", orDefault(path), yaml.FormatError(err, false, true))
	}
	return s, nil
}

func orDefault(path string) string {
	if path == "" {
		return "(default)"
	}
	return path
}

// env returns the migration env the spec describes, for an account.
func (s Spec) env(account string) migration.Env {
	return migration.Env{Suffix: s.Env.Suffix, Region: s.Env.Region, Account: account, Project: s.Env.Project, UserTags: s.Env.Tags}
}

func (s Spec) keySpec() migration.KeySpec {
	return migration.KeySpec{DeletionWindowDays: s.Key.DeletionWindowDays}
}

func (s Spec) vpcSpec() network.VPCSpec { return network.VPCSpec{CIDR: s.Network.VPC.CIDR} }

// Validate checks every field and returns every problem at once, each
// prefixed with its path in the spec file.
func (s Spec) Validate() error {
	var errs []error
	add := func(prefix string, err error) {
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			errs = append(errs, fmt.Errorf("%s%s", prefix, line))
		}
	}
	// The account is not known before credentials are; validate the env
	// with a placeholder account so naming and tag rules are checked.
	add("", s.env("000000000000").Validate())
	add("", s.keySpec().Validate())
	add("network.", s.vpcSpec().Validate())
	return errors.Join(errs...)
}
