package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// informer: the memory of a Go controller's cache of the same Deployments (the peer figure).
func informer(kubeconfig string) {
	start := time.Now()
	client := kubernetes.NewForConfigOrDie(config(kubeconfig))
	factory := informers.NewSharedInformerFactory(client, 0)
	inf := factory.Apps().V1().Deployments().Informer()
	stop := make(chan struct{})
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		die("informer did not sync")
	}
	synced := time.Since(start)
	n := len(inf.GetStore().List())
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := 0.0
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			var kb float64
			if _, err := fmt.Sscanf(line, "VmRSS: %f kB", &kb); err == nil {
				rss = kb / 1024
			}
		}
	}
	out, _ := json.Marshal(map[string]any{"objects": n, "sync_s": synced.Seconds(), "rss_mb": rss,
		"heap_inuse_mb": float64(ms.HeapInuse) / (1 << 20)})
	fmt.Println(string(out))
	close(stop)
}
