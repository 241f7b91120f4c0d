// Package webhookcerts gives the supervisor's webhook server a certificate
// of its own when nothing else (cert-manager) provides one: it creates a CA
// and a serving certificate for the webhook Service's DNS names, writes
// them where controller-runtime's webhook server reads them, and patches
// the CA into the caBundle of the webhook configurations and CRD conversion
// webhooks the install labels as the supervisor's, so the API server
// verifies the webhooks against it.
package webhookcerts
