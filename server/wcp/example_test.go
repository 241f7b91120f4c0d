package wcp_test

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/server/wcp"
)

// The entry kube-apiserver's AuthenticationConfiguration needs to trust
// the login tokens (the CA is left out here).
func ExampleJWTAuthenticator() {
	o := wcp.TokenOptions{IssuerURL: "https://192.168.10.2/openid", Audience: "supervisor"}
	out, _ := yaml.Marshal(wcp.JWTAuthenticator(o, ""))
	fmt.Print(string(out))
	// Output:
	// claimMappings:
	//   groups:
	//     claim: groups
	//     prefix: 'sso:'
	//   uid: {}
	//   username:
	//     claim: sub
	//     prefix: 'sso:'
	// issuer:
	//   audiences:
	//   - supervisor
	//   url: https://192.168.10.2/openid
}
