package network

import "fmt"

// ASN rules of the Amazon side (virtual private gateway, Direct Connect
// gateway) and the customer side (customer gateway, private VIF). See
// AWS-FACTS §3 and §4.

// amazonOwnedASNs are Amazon's public ASNs that AWS refuses for a customer
// gateway (7224 in every Region, 9059 in eu-west-1, 10124 in
// ap-northeast-1, 17943 in ap-southeast-1); a customer network never
// legitimately uses them, so they are refused in every Region.
var amazonOwnedASNs = map[int64]string{7224: "every Region", 9059: "eu-west-1", 10124: "ap-northeast-1", 17943: "ap-southeast-1"}

// checkAmazonASN validates an Amazon-side ASN: private, 64512–65534 or
// 4200000000–4294967294.
func checkAmazonASN(field string, asn int64) error {
	if asn >= 64512 && asn <= 65534 || asn >= 4200000000 && asn <= 4294967294 {
		return nil
	}
	return fmt.Errorf("%s: %d is not a private ASN (64512-65534 or 4200000000-4294967294) as AWS requires on its side", field, asn)
}

// checkCustomerASN validates an on-premises ASN, for a customer gateway
// or a private VIF: 1-4294967294 (public, or private 64512-65534 or
// 4200000000-4294967294; a customer gateway takes the 4-byte ones as
// BgpAsnExtended), without the reserved and documentation ASNs and
// Amazon's own.
func checkCustomerASN(field string, asn int64) error {
	switch {
	case asn < 1 || asn > 4294967294:
		return fmt.Errorf("%s: %d outside 1-4294967294", field, asn)
	case asn == 23456:
		return fmt.Errorf("%s: 23456 is AS_TRANS (RFC 6793), reserved", field)
	case asn == 65535:
		return fmt.Errorf("%s: 65535 is reserved (RFC 7300)", field)
	case asn >= 64496 && asn <= 64511 || asn >= 65536 && asn <= 65551:
		return fmt.Errorf("%s: %d is reserved for documentation (RFC 5398)", field, asn)
	}
	if region, ok := amazonOwnedASNs[asn]; ok {
		return fmt.Errorf("%s: %d is Amazon's own ASN (reserved in %s); use your public ASN or a private one (64512-65534)", field, asn, region)
	}
	return nil
}
