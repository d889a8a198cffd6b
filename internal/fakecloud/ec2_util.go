package fakecloud

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Helpers shared by the fake EC2 resource files.

// tokenCreated returns the ID of the resource an earlier create of op with
// this client token made, or "" when the token is new. The same token with
// other parameters is IdempotentParameterMismatch, as in EC2. Call with mu
// held.
func (f *EC2) tokenCreated(op string, token *string, digest string) (string, error) {
	if aws.ToString(token) == "" {
		return "", nil
	}
	use, ok := f.st().Tokens[op+"/"+*token]
	if !ok {
		return "", nil
	}
	if use.Digest != digest {
		return "", apiError("IdempotentParameterMismatch", "Client token %s was already used with different parameters.", *token)
	}
	return use.ID, nil
}

// recordToken remembers that a create of op with token made id. Call with
// mu held.
func (f *EC2) recordToken(op string, token *string, digest, id string) {
	if aws.ToString(token) != "" {
		f.st().Tokens[op+"/"+*token] = clientTokenUse{ID: id, Digest: digest}
	}
}

// digest renders request parameters for the idempotency check.
func digest(parts ...any) string { return fmt.Sprint(parts...) }

// ec2Page pages a Describe result the way EC2 does when MaxResults is set;
// without it every item is returned at once.
func ec2Page[T any](items []T, token *string, maxResults *int32) ([]T, *string, error) {
	size := max(len(items), 1)
	if maxResults != nil && *maxResults > 0 {
		size = int(*maxResults)
	}
	return page(items, token, size)
}

// elapsed reports whether d has passed since t on the cloud clock.
func (c *Cloud) elapsed(t time.Time, d time.Duration) bool { return !c.now().Before(t.Add(d)) }

// prefixOverlaps reports whether two prefixes share an address.
func prefixOverlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// boolStr renders a bool as EC2 filters compare it.
func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// hostIn returns the n-th address of an IPv4 CIDR (wrapping inside it).
func hostIn(cidr string, n int) string {
	p := netip.MustParsePrefix(cidr)
	size := 1 << (32 - p.Bits())
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(4 + n%max(size-5, 1))
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}
