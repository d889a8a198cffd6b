package dms_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cutoverkit/cutover/dms"
	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// The DMS side of the reference migration on the simulated cloud: apply
// the steps, run the forward task through its full load into CDC, read
// the lag the cutover gates use, then switch replication to the reverse
// task as a cutover does.
func ExampleSteps() {
	ctx := context.Background()
	cloud := fakecloud.New()
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock()}

	// What other packages provide: the env key, private subnets, the
	// operator's source secret and the two CA certificates.
	key, _ := migration.EnsureKey(ctx, env, cloud.KMS(), migration.KeySpec{})
	for _, az := range []string{"a", "b"} {
		cloud.DMS().AddSubnet("subnet-0private"+az, "vpc-0migration", "us-east-1"+az)
	}
	secret, _ := cloud.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("onprem/pg13/migrator"), KmsKeyId: aws.String(key.ARN),
		SecretString: aws.String(`{"username":"migrator","password":"example-only","host":"pg13.dc1.example.internal","port":5432}`),
	})

	spec := dms.Spec{
		SourceSizeGB:     500,
		PrivateSubnetIDs: []string{"subnet-0privatea", "subnet-0privateb"},
		SecurityGroupIDs: []string{"sg-0dms"},
		KMSKeyARN:        key.ARN,
		Source:           dms.SourceSpec{SecretARN: aws.ToString(secret.ARN), DatabaseName: "monolith", CACertificatePEM: exampleCA},
		Target:           dms.TargetSpec{DatabaseName: "monolith", CACertificatePEM: exampleCA, SecurityGroupIDs: []string{"sg-0rds"}},
		Tables:           dms.TableSelection{Include: []dms.TableRef{{Schema: "public", Table: "%"}}},
	}
	if err := spec.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	out := &dms.Outputs{}
	c := dms.Clients{DMS: cloud.DMS(), RDS: cloud.RDS(), Secrets: cloud.SecretsManager(), IAM: cloud.IAM()}
	rb, _ := migration.NewRunbook(migration.Options{}, dms.Steps(c, func() dms.Spec { return spec }, out)...)
	report := &migration.Report{}
	env.Reporter = report
	if err := rb.Apply(ctx, env); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Summary())
	fmt.Println(out.Instance.Class, out.Instance.StorageGB, "GB")

	_ = dms.Start(ctx, env, cloud.DMS(), out.Forward.ARN)
	_, err := dms.Lag(ctx, env, cloud.DMS(), cloud.CloudWatch(), out.Forward.ARN)
	fmt.Println("during the full load:", errors.Is(err, dms.ErrNoLagData))
	cloud.Clock().Advance(time.Hour)
	cloud.DMS().SetTaskLatency(out.Forward.ARN, 2*time.Second, 4*time.Second)
	lag, _ := dms.Lag(ctx, env, cloud.DMS(), cloud.CloudWatch(), out.Forward.ARN)
	fmt.Println(lag.Status, lag.Source, lag.Target, lag.Tables)

	_ = dms.SwitchToReverse(ctx, env, cloud.DMS(), cloud.DMS().SourceFence(out.Forward.ARN), out.Forward.ARN, out.Reverse.ARN)
	fmt.Println(cloud.DMS().TaskStatus("dms-task-forward-dev"), cloud.DMS().TaskStatus("dms-task-reverse-dev"))
	// Output:
	// 17 to create, 0 to update, 0 to delete, 0 unchanged.
	// dms.r6i.xlarge 150 GB
	// during the full load: true
	// running 2s 4s map[Table completed:2]
	// stopped running
}

// exampleCA is a throwaway self-signed CA for the example.
const exampleCA = `-----BEGIN CERTIFICATE-----
MIIBWjCCAQGgAwIBAgIBATAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpleGFtcGxl
IENBMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFowFTETMBEGA1UEAxMK
ZXhhbXBsZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD/FoPASFkSv+LjF
LtgcYEo/GceE+sR+/RhC+LIed19pZMXbYNnpNI/KS+3AklW41hkBrXsWdZ0GDAOX
cm3Df6KjQjBAMA4GA1UdDwEB/wQEAwICBDAPBgNVHRMBAf8EBTADAQH/MB0GA1Ud
DgQWBBS9R3ziGdv1dqxMIw9G/+Nct1xwljAKBggqhkjOPQQDAgNHADBEAiAnsZKN
njEoRCP2Q8GZJZHNeHa9BR5A1FJnUH2DrLbuSQIgEiJtI2I3U/cPMD/Kp69sqlJC
5LhtMsefNrvYZz0I1H4=
-----END CERTIFICATE-----`
