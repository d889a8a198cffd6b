package fakecloud

import "encoding/json"

// checkPolicyJSON rejects a policy that is not a JSON object with a
// Statement, as AWS's MalformedPolicyDocument checks do; code is the
// service's error code for it.
func checkPolicyJSON(code, doc string) error {
	var p struct {
		Version   string            `json:"Version"`
		Statement []json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil || len(p.Statement) == 0 {
		return apiError(code, "The policy is malformed: it must be a JSON object with at least one statement.")
	}
	return nil
}
