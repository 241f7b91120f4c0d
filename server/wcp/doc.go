// Package wcp is the Supervisor's login service, served on the endpoint
// VIP's port 443 for `kubectl vsphere login`: POST /wcp/login checks a
// vCenter user's Basic credentials against vCenter (a session login and
// logout as the user; nothing kept, the password never logged) and answers
// a signed JWT (ES256; sub user@domain, groups group@domain, 10 hours),
// and for a guest login the TanzuKubernetesCluster's address and CA;
// GET /wcp/workloads lists the vSphere Namespaces the caller may access;
// GET /wcp/loginbanner answers the Supervisor's banner. The service is
// also the tokens' OIDC issuer: it serves the discovery document and the
// JWKS under the issuer URL, so kube-apiserver's JWT authenticator
// (JWTAuthenticator) trusts the tokens and maps them to the users and
// groups sso:<name>@<domain> that vSphere Namespaces' RoleBindings name.
//
// The signing keys live in one Secret (KeySet): created once by whichever
// replica comes first, rotated by the leader (KeyRotation), with retired
// public keys served until their tokens expired. The service reads
// Kubernetes only through the client.Reader it is given (the manager's
// cache) and writes nothing but that Secret; it authorizes nothing in
// Kubernetes itself (RBAC does), and never keeps a password or logs a key
// or a token.
package wcp
