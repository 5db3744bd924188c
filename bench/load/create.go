package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// create: the corpus' namespaces and Deployments, as Git declares them.
func create(kubeconfig, objectsFile string, workers int) {
	objects := readObjects(objectsFile)
	client := dynamic.NewForConfigOrDie(config(kubeconfig))
	ctx := context.Background()
	namespaces := map[string]bool{}
	for _, o := range objects {
		namespaces[o.GetNamespace()] = true
	}
	for ns := range namespaces {
		n := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		_, err := client.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
			Create(ctx, n, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			die("namespace %s: %v", ns, err)
		}
	}
	start := time.Now()
	work := make(chan *unstructured.Unstructured)
	var done sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := 0; i < workers; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for o := range work {
				_, err := client.Resource(deployments).Namespace(o.GetNamespace()).
					Create(ctx, o, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					die("deployment %s/%s: %v", o.GetNamespace(), o.GetName(), err)
				}
				mu.Lock()
				created++
				if created%1000 == 0 {
					fmt.Fprintf(os.Stderr, "created %d/%d Deployments (%.0f s)\n", created, len(objects),
						time.Since(start).Seconds())
				}
				mu.Unlock()
			}
		}()
	}
	for _, o := range objects {
		work <- o
	}
	close(work)
	done.Wait()
	fmt.Printf("created %d Deployments in %d namespaces in %.1f s\n", len(objects), len(namespaces),
		time.Since(start).Seconds())
}

// target is one Deployment the run changes: its first container's first env var.
