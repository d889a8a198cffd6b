package network

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretReader returns the value of a Secrets Manager secret, by ARN. The
// VPN pre-shared keys and the Direct Connect BGP authentication key reach
// this package only through it: specs hold ARNs, never values, and the
// values are sent to AWS and compared, never logged, reported or put in an
// error. SecretsManagerReader implements it; tests pass a map.
type SecretReader interface {
	SecretValue(ctx context.Context, arn string) (string, error)
}

// SecretsManagerAPI is the part of the Secrets Manager client
// SecretsManagerReader uses.
type SecretsManagerAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManagerReader reads secrets with GetSecretValue: the value is the
// secret's SecretString, whitespace trimmed.
type SecretsManagerReader struct{ API SecretsManagerAPI }

// SecretValue returns the current value of the secret arn.
func (r SecretsManagerReader) SecretValue(ctx context.Context, arn string) (string, error) {
	out, err := r.API.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", arn, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("read secret %s: no string value", arn)
	}
	return strings.TrimSpace(*out.SecretString), nil
}

// readSecret reads arn through r, with an error naming the field (never
// the value).
func readSecret(ctx context.Context, r SecretReader, field, arn string) (string, error) {
	if r == nil {
		return "", fmt.Errorf("%s: %s is set but no SecretReader was given", field, arn)
	}
	v, err := r.SecretValue(ctx, arn)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// sameSecret compares two secret values in constant time.
func sameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// checkSecretARN validates a Secrets Manager secret ARN field; empty is
// allowed (the caller decides whether it is required).
func checkSecretARN(field, arn string) error {
	if arn == "" {
		return nil
	}
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
		// The value is not echoed: it may be the secret itself, pasted in.
		return fmt.Errorf("%s: not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>); secrets are never put in a spec", field)
	}
	return nil
}
