package validate

import (
	"context"
	"sync"

	"github.com/cutoverkit/cutover/migration"
)

// The runbook steps of Steps.
const (
	StepLogGroup    = "validation-log-group"
	StepDocuments   = "validation-documents"
	StepAssociation = "validation-association"
)

// Steps returns the runbook steps that ensure (Apply) and delete
// (Destroy) the env's validation: the output log group, the documents,
// and the association, which depends on the documents so that Destroy
// removes it first. spec is called when a step runs, so it may read IDs
// other steps produce (the key ARN, the database secret ARN); out receives
// what the steps ensure, for RunSuite. dependsOn are the steps everything
// here waits for (the env key's step).
func Steps(api SSMAPI, logs migration.LogsAPI, spec func() Spec, out *Suite, dependsOn ...string) []migration.Step {
	var mu sync.Mutex // parallel steps write different fields of out
	dep := func(more ...string) []string { return append(append([]string(nil), dependsOn...), more...) }
	valid := func(env migration.Env) (Spec, error) {
		s := spec()
		if err := migration.Validate(env, s); err != nil {
			return s, err
		}
		return s, nil
	}
	return []migration.Step{
		{
			Name: StepLogGroup, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				s, err := valid(env)
				if err != nil {
					return err
				}
				g, err := migration.EnsureLogGroup(ctx, env, logs, s.logGroup(env))
				mu.Lock()
				out.LogGroup = g.Name
				mu.Unlock()
				return err
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				s, err := valid(env)
				if err != nil {
					return err
				}
				return migration.DeleteLogGroup(ctx, env, logs, s.logGroup(env))
			},
		},
		{
			Name: StepDocuments, DependsOn: dep(),
			Apply: func(ctx context.Context, env migration.Env) error {
				s, err := valid(env)
				if err != nil {
					return err
				}
				var docs []Document
				for _, ds := range s.Documents(env) {
					d, err := EnsureDocument(ctx, env, api, ds)
					if err != nil {
						return err
					}
					docs = append(docs, d)
				}
				mu.Lock()
				out.Documents = docs
				mu.Unlock()
				return nil
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				s, err := valid(env)
				if err != nil {
					return err
				}
				for _, ds := range s.Documents(env) {
					if err := DeleteDocument(ctx, env, api, ds); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			Name: StepAssociation, DependsOn: dep(StepDocuments),
			Apply: func(ctx context.Context, env migration.Env) error {
				s, err := valid(env)
				if err != nil {
					return err
				}
				mu.Lock()
				docs := out.Documents
				mu.Unlock()
				for _, d := range docs {
					if d.Name == env.Name(DocConfiguration) {
						a, err := EnsureAssociation(ctx, env, api, s.association(env, d))
						mu.Lock()
						out.Association = a
						mu.Unlock()
						return err
					}
				}
				return nil // no configuration check, no association
			},
			Delete: func(ctx context.Context, env migration.Env) error {
				return DeleteAssociation(ctx, env, api, AssociationSpec{Name: env.Name(AssociationName), Document: Document{Name: env.Name(DocConfiguration)}})
			},
		},
	}
}
