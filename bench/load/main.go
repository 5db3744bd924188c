// plumbline-load: the client side of bench/controller_load.sh, against a real kube-apiserver.
//
//	plumbline-load create   --kubeconfig K --objects all.yaml
//	    creates the namespaces and Deployments of a gen_corpus.py stream, 8 at a time
//	plumbline-load run      --kubeconfig K --objects all.yaml --report NAME [--rate 1000] [--duration 10m]
//	    changes one Deployment's first env value at --rate changes per minute (a drift, or the
//	    revert of one), watches the DriftReport, and prints when each change showed there
//	plumbline-load informer --kubeconfig K
//	    a client-go shared informer caching every Deployment, as a Go controller would: the peer
//	    figure for the controller's memory
//
// Latency is measured from the apiserver's answer to the patch to the DriftReport watch event
// that first shows its effect: the drift with the new value, or no drift on that field after a
// revert. An object is never changed again before its last change showed, so each expected
// state is unambiguous.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	deployments  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	driftReports = schema.GroupVersionResource{Group: "plumbline.dev", Version: "v1alpha1", Resource: "driftreports"}
)

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "plumbline-load: "+format+"\n", args...)
	os.Exit(1)
}

func config(kubeconfig string) *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		die("kubeconfig %s: %v", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "plumbline-load"
	return cfg
}

// readObjects reads a YAML stream of Deployments (gen_corpus.py's repo/single/all.yaml).
func readObjects(path string) []*unstructured.Unstructured {
	f, err := os.Open(path)
	if err != nil {
		die("%v", err)
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReaderSize(f, 1<<20), 1<<20)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := decoder.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			die("%s: document %d: %v", path, len(out)+1, err)
		}
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
	if len(out) == 0 {
		die("%s: no objects", path)
	}
	return out
}

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
type target struct {
	ns, name, env, gitValue string
	drifted                 string // the live value while drifted, "" when equal to Git
	pending                 *change
}

type change struct {
	seq      int
	t        *target
	plant    bool
	value    string // the live value after the change
	answered time.Time
	seen     time.Time
}

func targetsOf(objects []*unstructured.Unstructured) []*target {
	var out []*target
	for _, o := range objects {
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if len(containers) == 0 {
			continue
		}
		env, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
		if len(env) == 0 {
			continue
		}
		first := env[0].(map[string]any)
		name, _ := first["name"].(string)
		value, _ := first["value"].(string)
		out = append(out, &target{ns: o.GetNamespace(), name: o.GetName(), env: name, gitValue: value})
	}
	return out
}

// envDrifts reads a DriftReport: per "ns/name", the live values of its drifted fields whose path
// names the env var `env[name=X].value`, keyed by X.
func envDrifts(report *unstructured.Unstructured) (map[string]map[string]string, int64) {
	out := map[string]map[string]string{}
	drifts, _, _ := unstructured.NestedSlice(report.Object, "status", "drifts")
	for _, d := range drifts {
		m, ok := d.(map[string]any)
		if !ok {
			continue
		}
		obj, _ := m["object"].(map[string]any)
		path, _ := m["path"].(string)
		i := strings.Index(path, ".env[name=")
		if obj == nil || i < 0 || !strings.HasSuffix(path, "].value") {
			continue
		}
		env := path[i+len(".env[name=") : len(path)-len("].value")]
		key := fmt.Sprint(obj["namespace"], "/", obj["name"])
		if out[key] == nil {
			out[key] = map[string]string{}
		}
		live, _ := m["live"].(string)
		out[key][env] = live
	}
	omitted, _, _ := unstructured.NestedInt64(report.Object, "status", "summary", "omitted", "drifts")
	return out, omitted
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func run(kubeconfig, objectsFile, reportNs, reportName string, rate int, duration time.Duration,
	maxDrifted int, seed int64, csvPath string) {
	targets := targetsOf(readObjects(objectsFile))
	if len(targets) == 0 {
		die("%s: no Deployment with an env var", objectsFile)
	}
	byKey := map[string]*target{}
	for _, t := range targets {
		byKey[t.ns+"/"+t.name] = t
	}
	cfg := config(kubeconfig)
	client := dynamic.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	var changes []*change
	omittedSeen := int64(0)
	pendingCount := 0
	// The watcher: each DriftReport version settles every pending change it reflects.
	settle := func(report *unstructured.Unstructured, at time.Time) {
		drifts, omitted := envDrifts(report)
		mu.Lock()
		defer mu.Unlock()
		if omitted > omittedSeen {
			omittedSeen = omitted
		}
		for _, c := range changes {
			if c.t.pending != c || c.answered.IsZero() {
				continue
			}
			live, drifted := drifts[c.t.ns+"/"+c.t.name][c.t.env]
			if (c.plant && drifted && live == c.value) || (!c.plant && !drifted) {
				c.seen = at
				c.t.pending = nil
				pendingCount--
			}
		}
	}
	watchReady := make(chan struct{})
	go func() {
		first := true
		for ctx.Err() == nil {
			list, err := client.Resource(driftReports).Namespace(reportNs).List(ctx,
				metav1.ListOptions{FieldSelector: "metadata.name=" + reportName})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for i := range list.Items {
				settle(&list.Items[i], time.Now())
			}
			w, err := client.Resource(driftReports).Namespace(reportNs).Watch(ctx, metav1.ListOptions{
				FieldSelector: "metadata.name=" + reportName, ResourceVersion: list.GetResourceVersion()})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			if first {
				close(watchReady)
				first = false
			}
			for ev := range w.ResultChan() {
				if ev.Type == watch.Added || ev.Type == watch.Modified {
					if u, ok := ev.Object.(*unstructured.Unstructured); ok {
						settle(u, time.Now())
					}
				}
			}
		}
	}()
	<-watchReady

	rng := rand.New(rand.NewSource(seed))
	interval := time.Minute / time.Duration(rate)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	start := time.Now()
	skipped := 0
	patchErrors := 0
	var drifted []*target
	fmt.Fprintf(os.Stderr, "changing %d Deployments: %d changes/min for %s (one every %s)\n",
		len(targets), rate, duration, interval)
	lastProgress := start
	for seq := 1; time.Since(start) < duration; seq++ {
		<-ticker.C
		mu.Lock()
		var c *change
		// Revert the oldest drift when the report holds enough of them, else plant a new one.
		if len(drifted) >= maxDrifted || (len(drifted) > 0 && rng.Intn(2) == 0) {
			for i, t := range drifted {
				if t.pending == nil {
					drifted = append(drifted[:i:i], drifted[i+1:]...)
					c = &change{seq: seq, t: t, plant: false, value: t.gitValue}
					break
				}
			}
		}
		if c == nil && len(drifted) < maxDrifted {
			for tries := 0; tries < 100; tries++ {
				t := targets[rng.Intn(len(targets))]
				if t.pending == nil && t.drifted == "" {
					c = &change{seq: seq, t: t, plant: true, value: fmt.Sprintf("load-%d", seq)}
					drifted = append(drifted, t)
					break
				}
			}
		}
		if c == nil {
			skipped++
			mu.Unlock()
			continue
		}
		c.t.pending = c
		pendingCount++
		changes = append(changes, c)
		mu.Unlock()

		patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/template/spec/containers/0/env/0/value","value":%q}]`, c.value)
		_, err := client.Resource(deployments).Namespace(c.t.ns).Patch(ctx, c.t.name, types.JSONPatchType,
			[]byte(patch), metav1.PatchOptions{FieldManager: "load-test"})
		answered := time.Now()
		mu.Lock()
		if err != nil {
			patchErrors++
			c.t.pending = nil
			pendingCount--
			changes = changes[:len(changes)-1]
			fmt.Fprintf(os.Stderr, "patch %s/%s: %v\n", c.t.ns, c.t.name, err)
		} else {
			c.answered = answered
			if c.plant {
				c.t.drifted = c.value
			} else {
				c.t.drifted = ""
			}
		}
		mu.Unlock()
		if time.Since(lastProgress) >= time.Minute {
			lastProgress = time.Now()
			mu.Lock()
			fmt.Fprintf(os.Stderr, "%.0f s: %d changes, %d not yet in the report\n",
				time.Since(start).Seconds(), len(changes), pendingCount)
			mu.Unlock()
		}
	}
	// Let the last changes reach the report (at most 60 s).
	drainUntil := time.Now().Add(60 * time.Second)
	for time.Now().Before(drainUntil) {
		mu.Lock()
		p := pendingCount
		mu.Unlock()
		if p == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()

	mu.Lock()
	defer mu.Unlock()
	var latencies []time.Duration
	perMinute := map[int][]time.Duration{}
	csv, err := os.Create(csvPath)
	if err != nil {
		die("%v", err)
	}
	defer csv.Close()
	fmt.Fprintln(csv, "seq,kind,namespace,name,answered_s,latency_ms")
	missed := 0
	for _, c := range changes {
		kind := "revert"
		if c.plant {
			kind = "drift"
		}
		lat := ""
		if c.seen.IsZero() {
			missed++
		} else {
			d := c.seen.Sub(c.answered)
			latencies = append(latencies, d)
			m := max(min(int(c.answered.Sub(start)/time.Minute), int(duration/time.Minute)-1), 0)
			perMinute[m] = append(perMinute[m], d)
			lat = fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
		}
		fmt.Fprintf(csv, "%d,%s,%s,%s,%.3f,%s\n", c.seq, kind, c.t.ns, c.t.name,
			c.answered.Sub(start).Seconds(), lat)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/1000) }
	summary := map[string]any{
		"changes": len(changes), "seen": len(latencies), "missed": missed, "skipped": skipped,
		"patch_errors": patchErrors, "omitted_drifts_max": omittedSeen,
		"seconds": time.Since(start).Seconds(),
		"p50_ms":  ms(percentile(latencies, 0.50)), "p90_ms": ms(percentile(latencies, 0.90)),
		"p99_ms": ms(percentile(latencies, 0.99)), "max_ms": ms(percentile(latencies, 1.0)),
	}
	var minutes []map[string]any
	for m := 0; m < len(perMinute)+1; m++ {
		l, ok := perMinute[m]
		if !ok {
			continue
		}
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		minutes = append(minutes, map[string]any{"minute": m + 1, "changes": len(l),
			"p50_ms": ms(percentile(l, 0.5)), "p99_ms": ms(percentile(l, 0.99))})
	}
	summary["per_minute"] = minutes
	out, _ := json.Marshal(summary)
	fmt.Println(string(out))
}

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

func main() {
	if len(os.Args) < 2 {
		die("usage: plumbline-load create|run|informer --kubeconfig FILE [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the test apiserver")
	objects := fs.String("objects", "", "gen_corpus.py's repo/single/all.yaml")
	workers := fs.Int("workers", 8, "concurrent creates")
	reportNs := fs.String("report-namespace", "plumbline-system", "the DriftReport's namespace")
	report := fs.String("report", "", "the DriftReport (the Environment's name)")
	rate := fs.Int("rate", 1000, "changes per minute")
	duration := fs.Duration("duration", 10*time.Minute, "how long to change objects")
	maxDrifted := fs.Int("max-drifted", 200, "most objects drifted at once (the report stays whole)")
	seed := fs.Int64("seed", 1, "random seed")
	csvPath := fs.String("csv", "changes.csv", "one line per change")
	_ = fs.Parse(os.Args[2:])
	if *kubeconfig == "" {
		die("--kubeconfig is required")
	}
	switch os.Args[1] {
	case "create":
		create(*kubeconfig, *objects, *workers)
	case "run":
		if *report == "" || *objects == "" {
			die("run needs --report and --objects")
		}
		run(*kubeconfig, *objects, *reportNs, *report, *rate, *duration, *maxDrifted, *seed, *csvPath)
	case "informer":
		informer(*kubeconfig)
	default:
		die("unknown command %q (create, run, informer)", os.Args[1])
	}
}
