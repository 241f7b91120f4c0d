package guestsim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cloudv1 "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/cloud/api/v1alpha1"
	inmemoryruntime "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/runtime"
)

// The in-memory etcd keeps its membership in annotations of the etcd Pods
// (cloudv1.Etcd*AnnotationName): cluster ID, member ID, and "leader from"
// (the newest is the leader). Members are named after their Pods, so member
// names equal Node names as KubeadmControlPlane requires.

// etcdMembers is the live membership read from the etcd Pods.
type etcdMembers struct {
	clusterID string
	ids       sets.Set[string]
	// leader is the Pod of the current leader, nil without one.
	leader *corev1.Pod
	pods   []corev1.Pod
}

func listEtcdMembers(ctx context.Context, gc inmemoryruntime.Client) (etcdMembers, error) {
	pods := &corev1.PodList{}
	if err := gc.List(ctx, pods, client.InNamespace(metav1.NamespaceSystem),
		client.MatchingLabels{"component": componentEtcd, "tier": staticPodTier}); err != nil {
		return etcdMembers{}, fmt.Errorf("failed to list etcd Pods: %w", err)
	}
	m := etcdMembers{ids: sets.New[string]()}
	var leaderFrom time.Time
	for i := range pods.Items {
		p := &pods.Items[i]
		if _, removed := p.Annotations[cloudv1.EtcdMemberRemoved]; removed {
			continue
		}
		m.pods = append(m.pods, *p)
		if m.clusterID == "" {
			m.clusterID = p.Annotations[cloudv1.EtcdClusterIDAnnotationName]
		}
		m.ids.Insert(p.Annotations[cloudv1.EtcdMemberIDAnnotationName])
		if t, err := time.Parse(time.RFC3339, p.Annotations[cloudv1.EtcdLeaderFromAnnotationName]); err == nil && t.After(leaderFrom) {
			leaderFrom, m.leader = t, p
		}
	}
	return m, nil
}

// randomID is a non-zero uint32 in decimal, as etcd IDs are parsed.
func randomID(taken sets.Set[string]) string {
	for {
		id := strconv.FormatUint(uint64(rand.Uint32()), 10)
		if id != "0" && !taken.Has(id) {
			return id
		}
	}
}

// newEtcdPod is node's etcd static Pod as a member of cluster clusterID,
// leading from now when leads.
func newEtcdPod(node, clusterID, memberID string, leads bool) *corev1.Pod {
	pod := newStaticPod(componentEtcd, node)
	// Beside the mirror-Pod annotations, which drains skip it by.
	pod.Annotations[cloudv1.EtcdClusterIDAnnotationName] = clusterID
	pod.Annotations[cloudv1.EtcdMemberIDAnnotationName] = memberID
	if leads {
		pod.Annotations[cloudv1.EtcdLeaderFromAnnotationName] = time.Now().Format(time.RFC3339)
	}
	return pod
}

// joinEtcd creates node's etcd Pod as a member of the cluster's etcd (the
// first member founds it and leads), unless it exists.
func joinEtcd(ctx context.Context, gc inmemoryruntime.Client, node string) error {
	pod := newStaticPod(componentEtcd, node)
	err := gc.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to get Pod %s: %w", pod.Name, err)
	}
	members, err := listEtcdMembers(ctx, gc)
	if err != nil {
		return err
	}
	if members.clusterID == "" {
		members.clusterID = randomID(nil)
	}
	pod = newEtcdPod(node, members.clusterID, randomID(members.ids), members.leader == nil)
	return createIfMissing(ctx, gc, pod)
}

// leaveEtcd deletes node's etcd Pod; if it led, another member takes over,
// as a real etcd cluster elects a new leader when its leader goes away.
func leaveEtcd(ctx context.Context, gc inmemoryruntime.Client, node string) error {
	members, err := listEtcdMembers(ctx, gc)
	if err != nil {
		return err
	}
	name := staticPodName(componentEtcd, node)
	if err := deleteIfPresent(ctx, gc, newStaticPod(componentEtcd, node)); err != nil {
		return err
	}
	if members.leader == nil || members.leader.Name != name {
		return nil
	}
	for i := range members.pods {
		next := &members.pods[i]
		if next.Name == name {
			continue
		}
		base := next.DeepCopy()
		next.Annotations[cloudv1.EtcdLeaderFromAnnotationName] = time.Now().Format(time.RFC3339)
		if err := gc.Patch(ctx, next, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to make %s the etcd leader: %w", next.Name, err)
		}
		return nil
	}
	return nil
}
