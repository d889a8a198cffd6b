package validate_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

// Validate a wave of three migrated servers on the simulated cloud: ensure
// the application health document, run it on the servers tagged Wave=1,
// and ask whether the migration may move to validated.
func Example() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}
	for i, name := range []string{"app-01", "app-02", "app-03"} {
		cloud.SSM().RegisterInstance(fmt.Sprintf("i-0%016d", i+1), map[string]string{"Wave": "1", "Name": name})
	}
	cloud.SSM().ScriptOutcome("i-00000000000000002", "validate-application-health-dev", types.CommandInvocationStatusFailed,
		"FAIL http: https://app.corp.example:8443/health returned HTTP 502, expected 200")

	doc, err := validate.EnsureDocument(ctx, env, cloud.SSM(), validate.DocumentSpec{
		Name:   env.Name(validate.DocApplication),
		Checks: []validate.Check{validate.ApplicationHealth{Port: 8443, Path: "/health", TLS: true, ServerName: "app.corp.example"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("document", doc.Name, "version", doc.Version)

	result, err := validate.Run(ctx, env, cloud.SSM(), nil, validate.RunSpec{Document: doc, Targets: map[string][]string{"Wave": {"1"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, inst := range result.Instances {
		fmt.Println(inst.InstanceID, inst.Name, inst.Status)
	}
	err = validate.Gate(migration.PhaseReplicating, migration.PhaseValidated, result)
	fmt.Println("may advance:", err == nil)
	var gate *validate.GateError
	if errors.As(err, &gate) {
		for _, f := range gate.Failures {
			fmt.Println("blocked by", f.InstanceID, f.Name)
		}
	}
	// Output:
	// document validate-application-health-dev version 1
	// i-00000000000000001 app-01 Success
	// i-00000000000000002 app-02 Failed
	// i-00000000000000003 app-03 Success
	// may advance: false
	// blocked by i-00000000000000002 app-02
}
