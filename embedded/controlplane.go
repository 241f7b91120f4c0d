package embedded

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/supervisor"
	"github.com/open-supervisor/supervisor/internal/tcpproxy"
)

// controlPlaneGuests stand in for the insides of the supervisor's
// control-plane VMs. On vSphere each runs kube-apiserver (6443) and the
// login proxy (443) on its management address; here the stack has one
// kube-apiserver, so once a control-plane VM runs, its management address
// forwards both ports to it. HAProxy then reaches the API through the VMs,
// as on vSphere, and a VM that stops running drops out of the endpoint.
type controlPlaneGuests struct {
	client client.Client
	// targets maps a port served on a VM's address to where it goes.
	targets map[int]string

	mu   sync.Mutex
	byVM map[string]*guestForwarders
}

// guestForwarders are one VM's listeners, on its address.
type guestForwarders struct {
	ip  string
	fws []*tcpproxy.Forwarder
}

func (g *guestForwarders) close() {
	for _, f := range g.fws {
		f.Close()
	}
}

func newControlPlaneGuests(c client.Client, apiServer, login string) *controlPlaneGuests {
	return &controlPlaneGuests{
		client:  c,
		targets: map[int]string{int(supervisor.APIServerPort): apiServer, int(supervisor.LoginPort): login},
		byVM:    map[string]*guestForwarders{},
	}
}

func (g *controlPlaneGuests) setup(mgr ctrl.Manager) error {
	isControlPlaneVM := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == vspherev1.SupervisorSystemNamespace && strings.HasPrefix(o.GetName(), supervisor.ControlPlaneVMPrefix)
	})
	err := ctrl.NewControllerManagedBy(mgr).
		For(&vmopv1.VirtualMachine{}, builder.WithPredicates(isControlPlaneVM)).
		Named("supervisor-control-plane-guests").
		Complete(g)
	if err != nil {
		return fmt.Errorf("failed to set up the control-plane VMs' simulated guests: %w", err)
	}
	return mgr.Add(ctrlRunnable(func(ctx context.Context) error {
		<-ctx.Done()
		g.closeAll()
		return nil
	}))
}

// Reconcile serves the VM's address while it runs, and stops otherwise.
func (g *controlPlaneGuests) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	vm := &vmopv1.VirtualMachine{}
	err := g.client.Get(ctx, req.NamespacedName, vm)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	ip := ""
	if err == nil && vm.DeletionTimestamp.IsZero() && vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn && vm.Status.Network != nil {
		ip = vm.Status.Network.PrimaryIP4
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	current := g.byVM[req.Name]
	if current != nil && current.ip == ip {
		return ctrl.Result{}, nil
	}
	if current != nil {
		current.close()
		delete(g.byVM, req.Name)
	}
	if ip == "" {
		return ctrl.Result{}, nil
	}
	serving := &guestForwarders{ip: ip}
	for port, target := range g.targets {
		f, err := tcpproxy.Listen(net.JoinHostPort(ip, strconv.Itoa(port)), target)
		if err != nil {
			serving.close()
			return ctrl.Result{}, fmt.Errorf("control-plane VM %s cannot serve port %d on %s: %w", req.Name, port, ip, err)
		}
		serving.fws = append(serving.fws, f)
	}
	g.byVM[req.Name] = serving
	ctrl.LoggerFrom(ctx).Info("Control-plane VM serves the API", "address", ip)
	return ctrl.Result{}, nil
}

func (g *controlPlaneGuests) closeAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name, f := range g.byVM {
		f.close()
		delete(g.byVM, name)
	}
}
