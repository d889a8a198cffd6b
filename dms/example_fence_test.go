package dms_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/migration"
)

// The database switch against a real on-premises PostgreSQL: the fence
// connects with the source endpoint's secret (the DMS user, which it
// exempts from the freeze) over verify-full TLS, and SwitchToReverse
// freezes, waits for DMS's slot to confirm, and starts the reverse task.
// It needs AWS credentials and the database, so it is compiled, not run.
func ExamplePostgresFence() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		log.Fatal(err)
	}
	caPEM, err := os.ReadFile("dc1-root-ca.pem") // the CA that signed the source's certificate
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		log.Fatal("dc1-root-ca.pem holds no certificate")
	}
	env := migration.Env{Suffix: "prod", Region: "us-east-1", Account: "123456789012", Logger: slog.Default()}
	fence := dms.PostgresFence{
		Host:      "pg13.dc1.example.internal",
		Database:  "monolith",
		SecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:onprem/pg13/migrator-AbCdEf",
		RootCAs:   roots,
		Secrets:   secretsmanager.NewFromConfig(cfg),
		Log:       env.Log(),
	}
	if err := fence.Validate(); err != nil {
		log.Fatal(err)
	}
	err = dms.SwitchToReverse(ctx, env, databasemigrationservice.NewFromConfig(cfg), fence,
		"arn:aws:dms:us-east-1:123456789012:task:FORWARD", "arn:aws:dms:us-east-1:123456789012:task:REVERSE")
	if err != nil {
		log.Fatal(err)
	}
}

// Validate names every field that is wrong before anything connects.
func ExamplePostgresFence_Validate() {
	fence := dms.PostgresFence{Host: "pg13.dc1.example.internal", Database: "monolith", SecretARN: "migrator:hunter2"}
	fmt.Println(fence.Validate())
	// Output:
	// postgresFence.secretArn: not the full ARN of an existing Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX); credentials come only from Secrets Manager
	// postgresFence.secrets: a Secrets Manager client is required to read the credentials
}
