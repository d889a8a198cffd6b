package pgdial_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/internal/pgdial"
)

// ReadAddress takes where a DMS-format secret says the database is, and
// nothing else from it.
func ExampleReadAddress() {
	ctx := context.Background()
	sm := fakecloud.New().SecretsManager()
	secret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("onprem/pg13/migrator"),
		SecretString: aws.String(`{"username":"migrator","password":"example-only","host":"pg13.dc1.example.internal","port":"5433"}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	addr, err := pgdial.ReadAddress(ctx, sm, aws.ToString(secret.ARN))
	fmt.Println(addr.Host, addr.Port, err)
	// Output: pg13.dc1.example.internal 5433 <nil>
}
