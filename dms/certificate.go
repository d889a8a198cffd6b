package dms

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	dmstypes "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// Name prefixes of the two CA certificates.
const (
	// CertSource is the CA that signed the on-premises PostgreSQL server
	// certificate.
	CertSource = "dms-cert-source"
	// CertTarget is the CA bundle of the RDS target
	// (https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem).
	CertTarget = "dms-cert-target"
)

// CertificateSpec describes one CA certificate imported into DMS, named
// "<Name>-<suffix>". Endpoints verify their server with it (SslMode
// verify-full).
type CertificateSpec struct {
	// Name is CertSource or CertTarget.
	Name string
	// PEM is the CA certificate chain in PEM, the whole chain in one
	// string. A certificate cannot change once imported.
	PEM string
}

// Validate checks the name and that PEM holds at least one X.509
// certificate and nothing else (a private key in a CA bundle is refused).
// Expiry is DMS's to check.
func (s CertificateSpec) Validate() error {
	var errs []error
	if s.Name != CertSource && s.Name != CertTarget {
		errs = append(errs, fmt.Errorf("certificate.name: %q must be %s or %s", s.Name, CertSource, CertTarget))
	}
	if err := checkPEM(s.PEM); err != nil {
		errs = append(errs, fmt.Errorf("certificate.pem: %w", err))
	}
	return errors.Join(errs...)
}

func checkPEM(text string) error {
	rest := []byte(strings.TrimSpace(text))
	n := 0
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return errors.New("not PEM: expected -----BEGIN CERTIFICATE----- blocks")
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %q: only CERTIFICATE blocks belong in a CA bundle (never a private key)", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
		rest = []byte(strings.TrimSpace(string(rest)))
	}
	if n == 0 {
		return errors.New("required: the CA certificate chain in PEM")
	}
	return nil
}

// Certificate is an imported certificate.
type Certificate struct {
	ID  string
	ARN string // a pending ID in a dry run that would import it
}

// EnsureCertificate imports the CA certificate once. DMS certificates are
// immutable: a different PEM under the same name is refused with an
// error (rotate by deleting the endpoints' use of it first). Certificates
// take tags in ImportCertificate; one without the env's ownership tag is
// not adopted. Idempotent.
func EnsureCertificate(ctx context.Context, env migration.Env, api DMSAPI, spec CertificateSpec) (Certificate, error) {
	name := env.Name(spec.Name)
	if err := migration.Validate(env, spec); err != nil {
		return Certificate{}, fmt.Errorf("ensure dms certificate %q: %w", name, err)
	}
	c, err := ensureCertificate(ctx, env, api, spec, name)
	if err != nil {
		return Certificate{}, fmt.Errorf("ensure dms certificate %q: %w", name, err)
	}
	return c, nil
}

func ensureCertificate(ctx context.Context, env migration.Env, api DMSAPI, spec CertificateSpec, name string) (Certificate, error) {
	found, err := findCertificate(ctx, api, name)
	if err != nil {
		return Certificate{}, err
	}
	if found == nil {
		if env.DryRun {
			env.Report(migration.Change{Kind: KindCertificate, Name: name, ID: migration.Pending(name), Action: migration.ActionCreate})
			return Certificate{ID: name, ARN: migration.Pending(name)}, nil
		}
		out, err := api.ImportCertificate(ctx, &dms.ImportCertificateInput{
			CertificateIdentifier: aws.String(name), CertificatePem: aws.String(strings.TrimSpace(spec.PEM)), Tags: dmsTags(env.NameTags(name)),
		})
		if awsx.IsAlreadyExists(err) {
			if err := visible(ctx, env, "certificate "+name, func(ctx context.Context) (bool, error) {
				c, err := findCertificate(ctx, api, name)
				return c != nil, err
			}); err != nil {
				return Certificate{}, err
			}
			return ensureCertificate(ctx, env, api, spec, name)
		}
		if err != nil {
			return Certificate{}, fmt.Errorf("import: %w", err)
		}
		arn := aws.ToString(out.Certificate.CertificateArn)
		env.Report(migration.Change{Kind: KindCertificate, Name: name, ID: arn, Action: migration.ActionCreate})
		return Certificate{ID: name, ARN: arn}, nil
	}
	arn := aws.ToString(found.CertificateArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return Certificate{}, err
	}
	if !env.Owns(tags) {
		return Certificate{}, notOwned(env, "certificate", name)
	}
	if strings.TrimSpace(aws.ToString(found.CertificatePem)) != strings.TrimSpace(spec.PEM) {
		return Certificate{}, fmt.Errorf("certificate is immutable: %s holds another PEM than the spec; DMS cannot replace a certificate — delete the endpoints that use it (destroy the dms steps), then apply again", arn)
	}
	var c migration.Converge
	c.Tags(tags, env.NameTags(name), tagDMS(ctx, api, arn))
	if err := c.Apply(env, migration.Change{Kind: KindCertificate, Name: name, ID: arn}); err != nil {
		return Certificate{}, err
	}
	return Certificate{ID: name, ARN: arn}, nil
}

// tagDMS returns the write that adds missing tags to the DMS resource arn.
func tagDMS(ctx context.Context, api DMSAPI, arn string) func(missing map[string]string) error {
	return func(missing map[string]string) error {
		if _, err := api.AddTagsToResource(ctx, &dms.AddTagsToResourceInput{ResourceArn: aws.String(arn), Tags: dmsTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	}
}

func findCertificate(ctx context.Context, api DMSAPI, name string) (*dmstypes.Certificate, error) {
	out, err := ignoreNotFound(api.DescribeCertificates(ctx, &dms.DescribeCertificatesInput{Filters: idFilter("certificate-id", name)}))
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if out == nil {
		return nil, nil
	}
	for _, c := range out.Certificates {
		if strings.EqualFold(aws.ToString(c.CertificateIdentifier), name) {
			return &c, nil
		}
	}
	return nil, nil
}

// DeleteCertificate deletes the env's certificate once no endpoint uses
// it (an endpoint still deleting is waited out); a no-op when gone, and a
// certificate without the ownership tag is left in place.
func DeleteCertificate(ctx context.Context, env migration.Env, api DMSAPI, spec CertificateSpec) error {
	name := env.Name(spec.Name)
	if err := migration.Validate(env, nameOnly(spec.Name, CertSource, CertTarget)); err != nil { // the name is all a delete needs
		return fmt.Errorf("delete dms certificate %q: %w", name, err)
	}
	found, err := findCertificate(ctx, api, name)
	if err != nil {
		return fmt.Errorf("delete dms certificate %q: %w", name, err)
	}
	if found == nil {
		env.ReportGone(KindCertificate, name)
		return nil
	}
	arn := aws.ToString(found.CertificateArn)
	tags, err := dmsTagsOf(ctx, api, arn)
	if err != nil {
		return fmt.Errorf("delete dms certificate %q: %w", name, err)
	}
	if !env.Owns(tags) {
		env.ReportNotOwned(KindCertificate, name, arn)
		return nil
	}
	if !env.DryRun {
		if err := deleteWhenFree(ctx, env, "dms certificate "+name, func(ctx context.Context) error {
			_, err := api.DeleteCertificate(ctx, &dms.DeleteCertificateInput{CertificateArn: aws.String(arn)})
			return err
		}); err != nil {
			return fmt.Errorf("delete dms certificate %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindCertificate, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}
