package manager

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/retry"
	"github.com/open-supervisor/supervisor/server/wcp"
)

// LoginOptions configure the Login part: the login service of
// `kubectl vsphere login`, served over TLS on the endpoint's port 443.
type LoginOptions struct {
	// Listener is where the service serves; Address is listened on when
	// it is nil.
	Listener net.Listener
	Address  string
	// TLS holds the service's certificate, valid for the endpoint VIP.
	TLS *tls.Config
	// Tokens are the issuer URL and audience of the login tokens;
	// kube-apiserver's JWT authenticator must name the same
	// (wcp.JWTAuthenticator).
	Tokens wcp.TokenOptions
	// Authenticator checks credentials against vCenter. Nil: the Login
	// part is not started (the manager serves no logins).
	Authenticator wcp.Authenticator
	// RateLimits bound credential checks (wcp's defaults when nil).
	RateLimits *wcp.RateLimits
}

// setupLogin registers the login service, which every replica serves,
// and the rotation of its signing keys, which the leader does.
func setupLogin(mgr ctrl.Manager, o LoginOptions) error {
	if o.Authenticator == nil {
		ctrl.Log.WithName("login").Info("No vCenter authenticator configured: the login service is not started")
		return nil
	}
	keys, err := wcp.NewKeySet(wcp.KeySetOptions{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()})
	if err != nil {
		return fmt.Errorf("failed to set up the login service's signing keys: %w", err)
	}
	srv, err := wcp.New(wcp.Options{
		Reader: mgr.GetClient(), Authenticator: o.Authenticator, Keys: keys, Tokens: o.Tokens, RateLimits: o.RateLimits,
	})
	if err != nil {
		return fmt.Errorf("failed to set up the login service: %w", err)
	}
	serve := srv.Runnable(wcp.NewHTTPServer(o.Address, srv, o.TLS))
	if o.Listener != nil {
		serve = srv.RunnableOn(wcp.NewHTTPServer(o.Listener.Addr().String(), srv, o.TLS), o.Listener)
	}
	if err := mgr.Add(&withSystemNamespace{client: mgr.GetClient(), next: serve}); err != nil {
		return err
	}
	return mgr.Add(&wcp.KeyRotation{Keys: keys})
}

// withSystemNamespace makes the supervisor's system namespace, where the
// signing keys' Secret lives, before running next (which serves on every
// replica).
type withSystemNamespace struct {
	client client.Client
	next   manager.Runnable
}

func (w *withSystemNamespace) NeedLeaderElection() bool { return false }

func (w *withSystemNamespace) Start(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vspherev1.SupervisorSystemNamespace}}
	if err := retry.UntilDone(ctx, "create the supervisor's system namespace", func(ctx context.Context) error {
		if err := w.client.Create(ctx, ns.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create namespace %s: %w", ns.Name, err)
		}
		return nil
	}); err != nil {
		return nil // stopped meanwhile
	}
	return w.next.Start(ctx)
}
