package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cluster-api/util/conditions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/test/wait"
)

// assertCAPVView checks a running cluster as a CAPV user sees it:
// `kubectl get vspheremachines` in both versions shows the columns CAPV
// fills, and a ProviderServiceAccount (as CAPV's CSI and cloud-provider
// addons create) yields a token in the guest that can do in the supervisor
// namespace exactly what its rules allow.
func assertCAPVView(t *testing.T, cluster string) {
	t.Helper()
	selector := "cluster.x-k8s.io/cluster-name=" + cluster
	for _, row := range tableRows(t, "v1beta1", "vspheremachines", selector) {
		if !strings.HasPrefix(row["PROVIDERID"], "vsphere://") || !strings.HasPrefix(row["IPADDR"], "127.") {
			t.Errorf("kubectl get vspheremachines.v1beta1: %v; want a vsphere:// providerID and the VM's IP", row)
		}
	}
	for _, row := range tableRows(t, "v1beta2", "vspheremachines", selector) {
		if row["PROVISIONED"] != "true" || row["PHASE"] != "Ready" || row["CLASS"] != "guaranteed-small" {
			t.Errorf("kubectl get vspheremachines.v1beta2: %v; want provisioned, Ready, class guaranteed-small", row)
		}
	}

	ctx := context.Background()
	c := supervisor.client
	// Templates carry their class's capacity (autoscaling from zero).
	var templates vmwarev1.VSphereMachineTemplateList
	if err := c.List(ctx, &templates, client.InNamespace("ns1"), client.MatchingLabels{"cluster.x-k8s.io/cluster-name": cluster}); err != nil {
		t.Fatal(err)
	}
	if len(templates.Items) == 0 {
		t.Error("no VSphereMachineTemplates of the cluster")
	}
	for _, tm := range templates.Items {
		if cpu := tm.Status.Capacity[corev1.ResourceCPU]; cpu.Value() != 2 {
			t.Errorf("VSphereMachineTemplate %s capacity %v; want guaranteed-small's 2 CPUs", tm.Name, tm.Status.Capacity)
		}
	}
	psa := &unstructured.Unstructured{}
	psa.SetAPIVersion(vmwarev1.GroupVersion.Group + "/v1beta1")
	psa.SetKind("ProviderServiceAccount")
	psa.SetNamespace("ns1")
	psa.SetName(cluster + "-pvcsi")
	psa.Object["spec"] = map[string]any{
		"ref":             map[string]any{"apiVersion": vmwarev1.GroupVersion.Group + "/v1beta1", "kind": "VSphereCluster", "name": cluster},
		"rules":           []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get", "list"}}},
		"targetNamespace": "vmware-system-csi", "targetSecretName": "pvcsi-provider-creds",
	}
	if err := c.Create(ctx, psa, client.FieldValidation("Strict")); err != nil {
		t.Fatalf("creating a ProviderServiceAccount: %v", err)
	}
	guest := guestClient(t, cluster)
	copied := &corev1.Secret{}
	wait.For(t, time.Minute, "the ProviderServiceAccount's token in the guest", func() (bool, error) {
		if err := guest.Get(ctx, client.ObjectKey{Namespace: "vmware-system-csi", Name: "pvcsi-provider-creds"}, copied); err != nil {
			return false, err
		}
		return len(copied.Data[corev1.ServiceAccountTokenKey]) > 0, nil
	})
	vc := &vmwarev1.VSphereCluster{}
	wait.For(t, 30*time.Second, "ProviderServiceAccountsReady on the VSphereCluster", func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: "ns1", Name: cluster}, vc); err != nil {
			return false, err
		}
		return conditions.IsTrue(vc, vmwarev1.VSphereClusterProviderServiceAccountsReadyCondition), nil
	})

	// The token acts in ns1 with the account's rules, and nothing more.
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(supervisor.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = rest.AnonymousClientConfig(cfg)
	cfg.BearerToken = string(copied.Data[corev1.ServiceAccountTokenKey])
	asAccount, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := asAccount.List(ctx, &corev1.ConfigMapList{}, client.InNamespace("ns1")); err != nil {
		t.Errorf("the copied token cannot list ConfigMaps in ns1 as its rules allow: %v", err)
	}
	if err := asAccount.List(ctx, &corev1.SecretList{}, client.InNamespace("ns1")); !apierrors.IsForbidden(err) {
		t.Errorf("the copied token lists Secrets in ns1 (err %v); its rules do not allow it", err)
	}
	if err := c.Delete(ctx, psa); err != nil {
		t.Fatal(err)
	}
}

// tableRows returns `kubectl get <resource>.<version>.vmware...` rows in ns1
// as column name to cell.
func tableRows(t *testing.T, version, resource, selector string) []map[string]string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(supervisor.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.GroupVersion = &schema.GroupVersion{Group: vmwarev1.GroupVersion.Group, Version: version}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(runtime.NewScheme()).WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rc.Get().Namespace("ns1").Resource(resource).Param("labelSelector", selector).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		ColumnDefinitions []struct{ Name string } `json:"columnDefinitions"`
		Rows              []struct{ Cells []any } `json:"rows"`
	}
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) == 0 {
		t.Fatalf("table of %s.%s: %v (%s)", resource, version, err, raw)
	}
	var out []map[string]string
	for _, r := range table.Rows {
		row := map[string]string{}
		for i, col := range table.ColumnDefinitions {
			if i < len(r.Cells) && r.Cells[i] != nil {
				row[strings.ToUpper(col.Name)] = fmt.Sprint(r.Cells[i])
			}
		}
		out = append(out, row)
	}
	return out
}
